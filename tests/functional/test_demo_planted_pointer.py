"""`rolecall demo --print-env` never prints a demo pointer or env file another user planted.

The README has people run `eval "$(rolecall demo --print-env)"`, so whatever it prints runs as
them. Here a second local user plants a pointer and an env file of shell code where an older
rolecall looked (`$TMPDIR/rolecall-demo-<uid>.json`) and in a runtime dir of theirs, naming pid
0 or a live process of theirs; the victim's `--print-env` must start its own world instead.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import isolated_env
from tests.second_user import as_second_user, needs_second_user, run_as_second_user, shared_dir

__all__ = ["shared_dir"]  # the fixture, used by name below

pytestmark = needs_second_user

PAYLOAD = "echo PLANTED-BY-UID-1002 >&2\nexport AWS_PROFILE=planted\n"


def plant(path: Path, text: str) -> None:
    """Write `text` to `path` as the second user, world-readable and world-writable."""
    script = 'mkdir -p -m 0777 "$(dirname "$TARGET")" && printf %s "$TEXT" > "$TARGET" && '
    script += 'chmod 0666 "$TARGET"'
    result = run_as_second_user(
        ["/bin/sh", "-c", script], env={"TARGET": str(path), "TEXT": text, "PATH": "/usr/bin:/bin"}
    )
    assert result.returncode == 0, result.stderr
    assert path.stat().st_uid != os.getuid()


@pytest.fixture
def foreign_process() -> Iterator[int]:
    """A live process of the second user's."""
    process = subprocess.Popen(as_second_user(["sleep", "120"]))
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait(10)


def read_exports(process: subprocess.Popen[str], timeout: float = 60) -> str:
    """The first lines `--print-env` writes: up to its last export, or up to EOF."""
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if line.startswith("export AWS_PROFILE="):
            break
    return "".join(seen)


def serve(
    env: dict[str, str], while_running: Callable[[str], None] | None = None
) -> tuple[str, str]:
    """Run `rolecall demo --serve`, read what it prints, stop it; (stdout, stderr).

    `while_running` is called with the exports before the demo is stopped.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "rolecall", "demo", "--serve"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        stdout = read_exports(process)
        if while_running is not None:
            while_running(stdout)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        assert process.stderr is not None
        stderr = process.stderr.read()
    return stdout, stderr


def exports_of(stdout: str) -> dict[str, str]:
    return dict(
        line[len("export ") :].split("=", 1)
        for line in stdout.splitlines()
        if line.startswith("export ")
    )


@pytest.mark.slow
@pytest.mark.parametrize("pid", ["zero", "foreign"])
def test_a_planted_pointer_is_never_printed(
    tmp_path: Path, shared_dir: Path, foreign_process: int, pid: str
) -> None:
    uid = os.getuid()
    runtime = shared_dir / "run"  # a runtime dir the second user made and owns
    evil_env = shared_dir / "evil.env"
    plant(evil_env, PAYLOAD)
    pointer = {"pid": 0 if pid == "zero" else foreign_process, "env": str(evil_env)}
    pointer_text = json.dumps({**pointer, "key": "00" * 32})
    for place in (
        shared_dir / f"rolecall-demo-{uid}.json",  # where rolecall used to look ($TMPDIR)
        runtime / "rolecall" / "demo.json",
        runtime / f"rolecall-demo-{uid}.json",
    ):
        plant(place, pointer_text)
    env = isolated_env(tmp_path)
    env.update(TMPDIR=str(shared_dir), XDG_RUNTIME_DIR=str(runtime))
    found: list[str] = []

    printed = subprocess.run(
        [sys.executable, "-m", "rolecall", "demo", "--print-env"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert printed.stdout == ""  # nothing to eval: neither the planted code nor anything else
    assert printed.returncode == 1
    assert "rolecall: no demo is running." in printed.stderr
    # A world of our own is found, and only it, while one runs here.
    stdout, stderr = serve(env, lambda exports: found.append(exports_printed(env)))
    assert "PLANTED" not in stdout and "planted" not in stdout
    assert found == [stdout], stderr
    world = Path(exports_of(stdout)["ROLECALL_HOME"]).parent
    assert not world.exists(), "the demo world was not cleaned up"
    assert not (tmp_path / "home" / ".cache" / "rolecall" / "demo.json").exists()
    assert evil_env.read_text() == PAYLOAD  # untouched: rolecall never removes others' files
    assert [p for p in shared_dir.iterdir() if p.stat().st_uid == uid] == []  # nothing left


def exports_printed(env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-m", "rolecall", "demo", "--print-env"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout


@pytest.mark.slow
def test_the_world_and_its_pointer_are_private(tmp_path: Path, shared_dir: Path) -> None:
    env = isolated_env(tmp_path)
    env["TMPDIR"] = str(shared_dir)  # the world's directory lands in a shared /tmp-like dir
    pointer = tmp_path / "home" / ".cache" / "rolecall" / "demo.json"
    seen: dict[str, int] = {}

    def inspect(stdout: str) -> None:
        world = Path(exports_of(stdout)["ROLECALL_HOME"]).parent
        for path in (world, *world.rglob("*"), pointer.parent, pointer):
            seen[str(path)] = path.lstat().st_mode & 0o777
        assert pointer.lstat().st_uid == os.getuid()
        assert sorted(p.name for p in shared_dir.iterdir()) == [world.name]

    stdout, stderr = serve(env, inspect)

    assert "export AWS_ENDPOINT_URL=" in stdout, stdout + stderr
    assert len(seen) > 4, seen
    assert {path: mode for path, mode in seen.items() if mode not in (0o700, 0o600)} == {}
    assert list(shared_dir.iterdir()) == []
    assert not pointer.exists()
