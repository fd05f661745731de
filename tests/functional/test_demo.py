"""The demo world, run as the real `rolecall demo --serve` process.

It runs in a subprocess on purpose: the demo switches moto's IAM authorisation on for its
whole process, which must not leak into the moto server the other tests share.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import isolated_env

ROLES = [
    "identity/OrgAccess",
    "payments-prod/ReadOnly",
    "payments-prod/Admin",
    "payments-prod/OnCall",
    "payments-dev/Developer",
    "payments-dev/ReadOnly",
    "data-lake/Analyst",
    "security-audit/Auditor",
]


class Demo:
    def __init__(self, process: subprocess.Popen[str], env: dict[str, str]) -> None:
        self.process = process
        self.env = env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rolecall", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            check=False,
        )


def parse_exports(text: str) -> dict[str, str]:
    exports = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            exports[name] = shlex.split(value)[0]
    return exports


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    env = isolated_env(tmp_path)
    env["TMPDIR"] = str(tmp_path)  # the world's private dir and pointer file land here
    process = subprocess.Popen(
        [sys.executable, "-m", "rolecall", "demo", "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("export AWS_PROFILE"):
            break
    exports = parse_exports("".join(lines))
    assert "AWS_ENDPOINT_URL" in exports, lines
    try:
        yield Demo(process, {**env, **exports})
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_the_catalogue_passes_check(demo: Demo) -> None:
    result = demo.run("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "10 roles (2 chained)" in result.stdout


@pytest.mark.parametrize("target", ROLES)
def test_every_demo_role_can_be_assumed(demo: Demo, target: str) -> None:
    code = f"{ROLES.index(target) * 111:06d}"
    result = demo.run("env", target, "--mfa-code", code, "--var", "ticket=INC7", "--format", "json")
    assert result.returncode == 0, result.stderr
    variables = json.loads(result.stdout)["set"]
    role = target.split("/")[1]
    assert f":assumed-role/{role}/" in variables["ROLECALL_ASSUMED_ROLE_ARN"]
    assert variables["AWS_REGION"] in ("eu-west-1", "us-east-1")


def test_the_identity_center_role_signs_in_first(demo: Demo) -> None:
    """payments-dev/Deployer's source is the demo's IAM Identity Center, with no token at
    start: the assume signs in with a device code (the demo's fake approves it by itself after
    a few seconds), then assumes with the portal's credentials of the permission set's role.
    Every call stays on loopback; the token lands in the demo's own directory."""
    for name in ("AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL_SSO"):
        assert demo.env[name].startswith("http://127.0.0.1:")
    cache = Path(demo.env["ROLECALL_SSO_CACHE_DIR"])
    assert cache.is_relative_to(Path(demo.env["ROLECALL_HOME"]).parent)
    assert not cache.exists()
    started = time.monotonic()
    result = demo.run("env", "payments-dev/Deployer", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "enter the code" in result.stderr
    assert time.monotonic() - started >= 3  # approved by the fake, not before
    variables = json.loads(result.stdout)["set"]
    assert variables["ROLECALL_ASSUMED_ROLE_ARN"].startswith(
        "arn:aws:sts::222222222222:assumed-role/Deployer/"
    )
    assert len(list(cache.glob("*.json"))) == 2  # the token and the client registration
    again = demo.run("env", "payments-dev/Deployer", "--no-cache", "--format", "json")
    assert again.returncode == 0, again.stderr
    assert "enter the code" not in again.stderr  # the cached token is used


def test_the_forbidden_role_is_denied_with_a_sentence(demo: Demo) -> None:
    result = demo.run("env", "security-audit/BreakGlass")
    assert result.returncode == 1
    assert "user/alice is not allowed to assume arn:aws:iam::444444444444:role/BreakGlass" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_subshell_reaches_the_emulator(demo: Demo) -> None:
    probe = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"
    result = demo.run("exec", "payments-dev/Developer", "--", sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("arn:aws:sts::222222222222:assumed-role/Developer/")


def test_the_signin_page_names_the_identity(demo: Demo) -> None:
    result = demo.run("console", "data-lake/Analyst", "--print")
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    assert link.startswith("http://127.0.0.1:")
    page = urllib.request.urlopen(link, timeout=10).read().decode()
    assert "Signed in to the AWS console as arn:aws:sts::333333333333:assumed-role/Analyst/" in page
    assert "(demo)" in page


def test_a_second_print_env_finds_the_running_world(demo: Demo) -> None:
    result = demo.run("demo", "--print-env")
    assert result.returncode == 0
    assert parse_exports(result.stdout)["AWS_ENDPOINT_URL"] == demo.env["AWS_ENDPOINT_URL"]


def test_shutdown_leaves_nothing_behind(demo: Demo, tmp_path: Path) -> None:
    endpoint = urllib.parse.urlsplit(demo.env["AWS_ENDPOINT_URL"])
    signin = urllib.parse.urlsplit(demo.env["ROLECALL_FEDERATION_ENDPOINT"])
    root = Path(demo.env["ROLECALL_HOME"]).parent
    assert root.exists()
    demo.process.send_signal(signal.SIGTERM)
    assert demo.process.wait(20) == 0
    assert not root.exists()
    assert not any(p.name.startswith("rolecall-demo") for p in tmp_path.iterdir())
    for parts in (endpoint, signin):
        with socket.socket() as probe, pytest.raises(OSError):
            probe.settimeout(1)
            probe.connect(("127.0.0.1", parts.port or 0))
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(demo.process.pid, 0)
