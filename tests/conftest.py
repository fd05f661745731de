"""Test isolation: no test sees the developer's AWS config, AWS_* variables or user dirs,
and no test reaches anything but loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aws import FakeSts, RecordingProxy, moto_reset, write_aws_config

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "accounts.example.toml"

_ISOLATED_PREFIXES = ("AWS_", "ROLECALL_", "XDG_", "BOTO_", "TEXTUAL")


def isolated_env(tmp: Path) -> dict[str, str]:
    """A clean environment for a child process rooted in `tmp`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ISOLATED_PREFIXES)}
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        ROLECALL_HOME=str(tmp / "rolecall"),
        AWS_CONFIG_FILE=str(tmp / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local/state"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith(_ISOLATED_PREFIXES):
            monkeypatch.delenv(key)
    for key, value in isolated_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    yield


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise ConnectionRefusedError(f"tests may only reach loopback, not {host}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


# ---------------------------------------------------------------------------------------------
# AWS on loopback


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def sts(moto_url: str) -> Iterator[RecordingProxy]:
    """moto's STS behind a proxy that records what reached the wire."""
    moto_reset(moto_url)
    proxy = RecordingProxy(moto_url)
    yield proxy
    proxy.close()


@pytest.fixture
def fake_sts() -> Iterator[FakeSts]:
    """A programmable STS endpoint (set `.mode` for faults)."""
    fake = FakeSts()
    yield fake
    fake.close()


class World:
    """A catalogue, an AWS config and an STS endpoint, ready for real rolecall processes."""

    def __init__(self, tmp: Path, sts_url: str, catalogue: Path = EXAMPLE) -> None:
        self.tmp = tmp
        self.env = isolated_env(tmp)
        write_aws_config(Path(self.env["AWS_CONFIG_FILE"]))
        self.env["AWS_ENDPOINT_URL_STS"] = sts_url
        self.env["ROLECALL_CATALOGUE"] = str(catalogue)
        self.env["ROLECALL_STS_CONNECT_TIMEOUT"] = "2"
        self.env["ROLECALL_STS_READ_TIMEOUT"] = "2"
        self.home = Path(self.env["ROLECALL_HOME"])

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rolecall", *args],
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # no controlling terminal: never prompts
            check=False,
        )


@pytest.fixture
def world(tmp_path: Path, sts: RecordingProxy) -> World:
    return World(tmp_path, sts.url)


@pytest.fixture
def fake_world(tmp_path: Path, fake_sts: FakeSts) -> World:
    return World(tmp_path, fake_sts.url)
