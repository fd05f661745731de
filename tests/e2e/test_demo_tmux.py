"""`rolecall demo` in a real terminal (tmux): assume with keys, then a shell on the emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import isolated_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "demo")

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared:\n{self.screen()}")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self("send-keys", "-t", "demo", *(["-l"] if literal else []), *keys)
        time.sleep(0.3)


def terminal_env(tmp_path: Path) -> dict[str, str]:
    """The isolated environment, for a program that must size itself from the tmux pane."""
    env = isolated_env(tmp_path)
    for sized in ("COLUMNS", "LINES"):  # pytest-xdist sets them; Textual would obey them
        env.pop(sized, None)
    env.update(TERM="xterm-256color", SHELL="/bin/sh", TMPDIR=str(tmp_path), PS1="$ ")
    return env


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    session = Tmux(f"rolecall-test-{uuid.uuid4().hex[:8]}")
    yield session
    subprocess.run(["tmux", "-L", session.socket, "kill-server"], capture_output=True, check=False)
    # tmux leaves its socket file behind when the server is killed: remove it too.
    socket = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}" / session.socket
    socket.unlink(missing_ok=True)
    assert not socket.exists()


def test_demo_assume_and_shell(tmp_path: Path, tmux: Tmux) -> None:
    env = terminal_env(tmp_path)
    exports = " ".join(f"{k}={v!r}" for k, v in env.items() if k.isidentifier())
    command = f"env -i {exports} {sys.executable} -m rolecall demo; echo EXIT=$?; sleep 30"
    tmux("new-session", "-d", "-s", "demo", "-x", "150", "-y", "40", command)
    tmux.wait_for("payments-dev/Developer")
    tmux.wait_for("user/alice")  # the header resolved who we are, after first paint
    for _ in range(4):  # identity, payments-prod x3 -> payments-dev/Developer
        tmux.keys("Down")
    tmux.wait_for("ARN        arn:aws:iam::222222222222:role/Developer")
    tmux.keys("Enter")
    tmux.wait_for("14:5")  # the sessions panel counts the 15-minute session down
    tmux.keys("s")
    deadline = time.monotonic() + 20
    while not tmux.screen().strip().endswith(("$", "#")):  # the shell has the terminal
        assert time.monotonic() < deadline, tmux.screen()
        time.sleep(0.2)
    code = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"
    probe = f'{sys.executable} -c "{code}"'
    tmux.keys(probe, literal=True)
    tmux.keys("Enter")
    screen = tmux.wait_for("arn:aws:sts::222222222222:assumed-role/Developer/")
    assert "Traceback" not in screen
    tmux.keys("exit", literal=True)
    tmux.keys("Enter")
    tmux.wait_for("Shell for payments-dev/Developer exited (0)")
    tmux.keys("q")
    tmux.wait_for("EXIT=0")
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith("rolecall-demo")]
    assert leftovers == []
    assert os.environ.get("AWS_ENDPOINT_URL") is None


def test_a_closed_terminal_stops_the_demo_and_cleans_up(tmp_path: Path, tmux: Tmux) -> None:
    env = terminal_env(tmp_path)
    exports = " ".join(f"{k}={v!r}" for k, v in env.items() if k.isidentifier())
    pid_file = tmp_path / "pid"
    command = f"echo $$ > {pid_file}; exec env -i {exports} {sys.executable} -m rolecall demo"
    tmux("new-session", "-d", "-s", "demo", "-x", "150", "-y", "40", command)
    tmux.wait_for("payments-dev/Developer")
    pid = int(pid_file.read_text())
    assert any(p.name.startswith("rolecall-demo") for p in tmp_path.iterdir())
    tmux("kill-server")  # the terminal goes away: SIGHUP
    deadline = time.monotonic() + 15
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "rolecall demo kept running without its terminal"
        time.sleep(0.2)
    assert not any(p.name.startswith("rolecall-demo") for p in tmp_path.iterdir())


def test_a_terminal_closed_during_a_subshell_still_stops_the_demo(
    tmp_path: Path, tmux: Tmux
) -> None:
    env = terminal_env(tmp_path)
    exports = " ".join(f"{k}={v!r}" for k, v in env.items() if k.isidentifier())
    pid_file = tmp_path / "pid"
    # Not exec'd: a shell stays the session leader, as when a user starts rolecall by hand.
    launcher = tmp_path / "launch.py"
    launcher.write_text(
        "import os, sys\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'rolecall', 'demo'])\n"
    )
    command = f"env -i {exports} {sys.executable} {launcher}; echo EXIT=$?; sleep 30"
    tmux("new-session", "-d", "-s", "demo", "-x", "150", "-y", "40", command)
    tmux.wait_for("payments-dev/Developer")
    pid = int(pid_file.read_text())
    for _ in range(4):
        tmux.keys("Down")
    tmux.keys("Enter")
    tmux.wait_for("14:5")
    tmux.keys("s")  # the subshell now holds the terminal: SIGHUP will go to it, not to us
    deadline = time.monotonic() + 20
    while not tmux.screen().strip().endswith(("$", "#")):
        assert time.monotonic() < deadline, tmux.screen()
        time.sleep(0.2)
    tmux("kill-server")
    deadline = time.monotonic() + 20
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "rolecall demo kept running without its terminal"
        time.sleep(0.2)
    assert not any(p.name.startswith("rolecall-demo") for p in tmp_path.iterdir())


def test_demo_at_80x24_and_a_tmux_window_on_the_emulator(tmp_path: Path, tmux: Tmux) -> None:
    """On a small terminal the sessions and the essential keys are on screen, and `w` opens
    a window whose shell reaches the demo's emulator (its endpoints handed over), never AWS."""
    env = terminal_env(tmp_path)
    exports = " ".join(f"{k}={v!r}" for k, v in env.items() if k.isidentifier())
    command = (
        f'env -i {exports} TMUX="$TMUX" {sys.executable} -m rolecall demo; echo EXIT=$?; sleep 30'
    )
    tmux("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24", command)
    tmux.wait_for("user/alice")
    screen = tmux.wait_for("Sessions")
    footer = screen.rstrip("\n").splitlines()[-1]
    assert "? Help" in footer and "q Quit" in footer and "Assume" in footer, footer
    for _ in range(4):
        tmux.keys("Down")
    tmux.keys("Enter")
    tmux.wait_for("14:5")  # the countdown is on screen at 80x24
    tmux.keys("w")
    deadline = time.monotonic() + 20
    while "payments-dev/Developer" not in tmux("list-windows", "-t", "demo"):
        assert time.monotonic() < deadline, tmux("list-windows", "-t", "demo")
        time.sleep(0.2)
    window = "demo:1"

    def window_screen() -> str:
        return tmux("capture-pane", "-p", "-t", window)

    deadline = time.monotonic() + 20
    while "rolecall: arn:aws:sts::222222222222:assumed-role/Developer/" not in window_screen():
        assert time.monotonic() < deadline, window_screen()
        time.sleep(0.2)
    code = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"
    tmux("send-keys", "-t", window, "-l", f'{sys.executable} -c "{code}"')
    tmux("send-keys", "-t", window, "Enter")
    deadline = time.monotonic() + 30
    while window_screen().count("assumed-role/Developer/") < 2:  # the banner, then the probe
        assert time.monotonic() < deadline, window_screen()
        time.sleep(0.2)
    assert "Traceback" not in window_screen()
    tmux("send-keys", "-t", window, "exit", "Enter")
    deadline = time.monotonic() + 20
    while "payments-dev/Developer" in tmux("list-windows", "-t", "demo"):  # the window closed
        assert time.monotonic() < deadline, tmux("list-windows", "-t", "demo")
        time.sleep(0.2)
    tmux("send-keys", "-t", "demo:0", "q")
    tmux.wait_for("EXIT=0")
