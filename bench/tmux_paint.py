"""TUI processes in a real terminal: tmux panes on a private server; used by `tui_bench.py`.

Each process is the only process of its own 150x40 tmux session (no status line, so the pane
is the whole 150x40; TERM=xterm-256color from `default-terminal`): `tmux_launch.py` starts it
on the pane's terminal and reaps it. tmux reads what the TUI writes, parses it, keeps the
screen and answers the TUI's terminal queries, as a terminal emulator does. The probe records
its own first content paint (ms since the launcher's `time.time()` just before the fork); A/B
pairs alternate (AB, BA, ...), and a run starts only once the one before has been reaped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from common import BENCH, PYTHON, BenchError

COLS, ROWS = 150, 40
TIMEOUT_S = 60.0
POLL_S = 0.01
CONFIG = "set -g default-terminal xterm-256color\nset -g status off\nset -g exit-empty off\n"


def available() -> bool:
    """Whether tmux is installed."""
    return shutil.which("tmux") is not None


class Server:
    """A private tmux server (its own socket and config) for the benchmark's panes."""

    def __init__(self, work: Path) -> None:
        self.socket = f"rolecall-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.dir = work / "tmux" / self.socket
        self.dir.mkdir(parents=True)
        self.config = self.dir / "tmux.conf"
        self.config.write_text(CONFIG, encoding="utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
        self.count = 0
        # A session that holds the server up between runs (so no run pays its start-up).
        self.tmux("new-session", "-d", "-s", "keep", "-x", str(COLS), "-y", str(ROWS), "cat")

    def tmux(self, *args: str) -> str:
        """Run a tmux command on this server; its stdout."""
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(self.config), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"tmux {' '.join(args[:1])} failed: {done.stderr.strip()}")
        return done.stdout

    def close(self) -> None:
        """Kill the server and remove its socket."""
        path = ""
        with contextlib.suppress(BenchError):
            path = self.tmux("display-message", "-p", "#{socket_path}").strip()
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"],
            capture_output=True,
            env=self.env,
            timeout=10,
            check=False,
        )
        if path:
            Path(path).unlink(missing_ok=True)

    def run_one(self, command: Sequence[str], env: Mapping[str, str]) -> dict[str, Any]:
        """Run `command` as the only process of a new 150x40 session; its record."""
        self.count += 1
        name = f"run{self.count}"
        env_file = self.dir / "env.json"
        env_file.write_text(json.dumps(dict(env)), encoding="utf-8")
        out, done = self.dir / f"{name}.json", self.dir / f"{name}.done"
        argv = [str(PYTHON), "-S", str(BENCH / "tmux_launch.py"), str(env_file), str(out)]
        argv += [str(done), "--", *command]
        self.tmux("new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS), "--", *argv)
        deadline = time.monotonic() + TIMEOUT_S
        while not done.exists():
            if time.monotonic() > deadline:
                self.tmux("kill-session", "-t", name)
                raise BenchError(f"a TUI run in tmux did not end within {TIMEOUT_S:.0f} s")
            time.sleep(POLL_S)
        record: dict[str, Any] = json.loads(done.read_text(encoding="utf-8"))
        try:
            record["figures"] = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record["figures"] = None
        # The launcher exits right after writing DONE; let tmux close the pane first.
        while name in self.tmux("list-sessions", "-F", "#{session_name}").split():
            if time.monotonic() > deadline:
                break
            time.sleep(POLL_S)
        return record


def tmux_runs(
    commands: Sequence[Sequence[str]],
    warmup: int,
    n: int,
    env: Mapping[str, str],
    work: Path,
) -> list[dict[str, Any]]:
    """WARMUP + N rounds of the commands (one, or an A/B pair alternating), each in tmux.

    Records like `pty_timer.py`'s: label, wall_ms, maxrss_kib, status, figures.
    """
    server = Server(work)
    records = []
    try:
        labels = ("A", "B")
        for i in range(warmup + n):
            order = list(range(len(commands)))
            if i % 2:
                order.reverse()
            for k in order:
                record = server.run_one(commands[k], env)
                if i >= warmup:
                    record["label"] = labels[k]
                    records.append(record)
    finally:
        server.close()
    return records
