"""Runs one TUI process inside a tmux pane and reaps it; started by `bench/tmux_paint.py`.

    python -S bench/tmux_launch.py ENV_JSON OUT DONE -- ARGV...

This is the pane's own process: it takes the environment from ENV_JSON (the benchmark's
isolated environment; TERM stays the pane's own, which tmux sets from `default-terminal`),
records `time.time()` as `BENCH_T0` just before the fork, runs ARGV on the pane's terminal
(stdin, stdout and stderr are tmux's pty, so tmux reads, parses and answers what the TUI
writes), reaps it with `wait4`, and writes DONE: `{"wall_ms", "maxrss_kib", "status"}`. The
child writes its own figures to OUT (`BENCH_OUT`). Like `pty_timer.py` it imports next to
nothing (a child's `ru_maxrss` starts from its parent's peak).
"""

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    """Run the child; write DONE."""
    if len(argv) < 5 or argv[3] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    env_file, out, done, command = argv[0], argv[1], argv[2], argv[4:]
    with open(env_file, encoding="utf-8") as f:
        env = json.load(f)
    env["TERM"] = os.environ.get("TERM", "xterm-256color")
    for name in ("COLUMNS", "LINES"):
        env.pop(name, None)
    env["BENCH_OUT"] = out
    t0 = time.time()
    env["BENCH_T0"] = repr(t0)
    start = time.perf_counter_ns()
    pid = os.fork()
    if pid == 0:
        try:
            os.execve(command[0], command, env)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter_ns() - start
    record = {
        "wall_ms": wall / 1e6,
        "maxrss_kib": usage.ru_maxrss,
        "status": os.waitstatus_to_exitcode(status),
    }
    with open(done + ".tmp", "w", encoding="utf-8") as f:
        json.dump(record, f)
    os.rename(done + ".tmp", done)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
