"""The real `python -m rolecall` TUI in a real terminal (tmux), end to end.

Moto's STS on loopback (the `world` fixture: isolated environment, AWS config, catalogue
accounts.example.toml), the TUI started in a detached tmux session on a private server
(`tmux -L <unique name>`, never the user's), keys sent with `send-keys`, the screen read with
`capture-pane -p`. It moves to payments-dev/Developer, assumes it, watches the countdown tick,
opens a subshell whose boto3 sees the assumed role, comes back to the TUI, and quits with 0.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import World

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("tmux") is None,
        reason="tmux is not installed: this test drives the TUI in a real terminal "
        "(apt-get install tmux)",
    ),
]

WIDTH, HEIGHT = 150, 40
FOOTER = "^p"
"""Part of the footer: the TUI is on screen (the subshell does not print it)."""
PRINT_ARN = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"
COUNTDOWN = re.compile(r"(\d+:\d\d:\d\d)\s+payments-dev/Developer")


@dataclass
class Tmux:
    """One private tmux server with one session."""

    socket: str
    config: Path
    env: dict[str, str]
    session: str = "rolecall"

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(self.config), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        assert result.returncode == 0, (args, result.stderr)
        return result.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", self.session, *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def wait_for(self, what: Callable[[str], object] | str, timeout: float = 15) -> str:
        """The first capture for which `what` holds (a callable, or text on the screen)."""
        check = what if callable(what) else (lambda screen: what in screen)
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"waited {timeout} s for {what!r}; the screen was:\n{screen}")


@pytest.fixture
def tmux(world: World) -> Iterator[Tmux]:
    # pytest-xdist workers run with COLUMNS=80 LINES=24, which the TUI would obey over the
    # pane's size; TMUX* would point at the user's own server.
    env = {
        k: v
        for k, v in world.env.items()
        if not k.startswith("TMUX") and k not in ("COLUMNS", "LINES")
    }
    env.update(SHELL="/bin/sh", TERM="xterm-256color", PS1="$ ")
    # No user config; panes get TERM=xterm-256color (tmux sets TERM from default-terminal,
    # not from the environment) and all 40 rows (no status line).
    config = world.tmp / "tmux.conf"
    config.write_text(
        "set -g default-terminal xterm-256color\nset -g default-shell /bin/sh\nset -g status off\n"
    )
    server = Tmux(f"rolecall-e2e-{os.getpid()}-{uuid.uuid4().hex[:12]}", config, env)
    # The exit status is printed once the TUI has ended; `sleep` keeps the pane readable.
    command = f"{shlex.quote(sys.executable)} -m rolecall; echo EXIT=$?; sleep 60"
    server.run(
        "new-session", "-d", "-s", server.session, "-x", str(WIDTH), "-y", str(HEIGHT), command
    )
    socket: Path | None = None
    try:
        socket = Path(server.run("display-message", "-p", "#{socket_path}").strip())
        yield server
    finally:
        subprocess.run(
            ["tmux", "-L", server.socket, "-f", str(config), "kill-server"],
            env=env,
            capture_output=True,
            timeout=10,
            check=False,
        )
        if socket is not None:
            socket.unlink(missing_ok=True)  # tmux leaves the socket file behind


def countdown(screen: str) -> str | None:
    match = COUNTDOWN.search(screen)
    return match.group(1) if match else None


def seconds(clock: str) -> int:
    hours, minutes, secs = map(int, clock.split(":"))
    return hours * 3600 + minutes * 60 + secs


def test_assume_watch_the_clock_open_a_shell_and_quit(tmux: Tmux) -> None:
    tmux.wait_for(lambda s: FOOTER in s and "identity/OrgAccess" in s)
    tmux.keys("Down", "Down", "Down")
    tmux.wait_for("arn:aws:iam::222222222222:role/Developer")  # the detail pane follows

    tmux.keys("Enter")
    first = countdown(tmux.wait_for(countdown))
    assert first is not None and 7 * 3600 + 59 * 60 <= seconds(first) <= 8 * 3600
    time.sleep(2.2)
    second = countdown(tmux.screen())
    assert second is not None and seconds(second) < seconds(first), (first, second)

    tmux.keys("s")
    tmux.wait_for(lambda s: FOOTER not in s and "$" in s)  # the TUI is suspended
    tmux.keys(f"{shlex.quote(sys.executable)} -c {shlex.quote(PRINT_ARN)}", literal=True)
    tmux.keys("Enter")
    tmux.wait_for(
        re.compile(r"^arn:aws:sts::222222222222:assumed-role/Developer/\S+$", re.M).search
    )
    tmux.keys('echo "TERM=$TERM TARGET=$ROLECALL_TARGET"', literal=True)
    tmux.keys("Enter")
    tmux.wait_for("TERM=xterm-256color TARGET=payments-dev/Developer")

    tmux.keys("exit", literal=True)
    tmux.keys("Enter")
    back = tmux.wait_for(lambda s: FOOTER in s and countdown(s) is not None)
    assert "payments-dev/Developer" in back

    tmux.keys("q")
    tmux.wait_for("EXIT=0")
