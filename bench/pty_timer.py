"""A lean timer for TUI processes on a pseudo-terminal; started by `bench/tui_bench.py`.

    python -S bench/pty_timer.py COLS ROWS WARMUP N OUT_DIR -- A_ARGV... [-- B_ARGV...]

Runs WARMUP rounds (discarded), then N rounds; with two commands each round is a pair whose
order alternates (AB, BA, AB, ...), so host drift hits both sides alike. Each child gets its
own pseudo-terminal (`pty.fork`: a new session with the pty as controlling terminal, the
window size set to COLS x ROWS before `exec`) and TERM=xterm-256color; this process drains
the master side the whole time, as a terminal would, and reaps the child with `wait4`.

The child is told `BENCH_T0` (this process's `time.time()` just before the fork) and
`BENCH_OUT` (a JSON file in OUT_DIR for its own figures). One JSON line per measured run:
`{"label", "wall_ms", "maxrss_kib", "status", "output_bytes", "figures"}`, where wall runs
from just before the fork to just after the reap; then `{"timer_hwm_kib": KIB}`.

Like `ab_timer.py` it imports next to nothing: a child's `ru_maxrss` starts from the peak RSS
of the process that forked it.
"""

import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

from ab_timer import own_hwm_kib  # same directory; as lean as this module

TIMEOUT_S = 120.0


def set_winsize(fd: int, cols: int, rows: int) -> None:
    """TIOCSWINSZ on `fd`."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def run_one(argv: list[str], cols: int, rows: int, out: str) -> dict[str, object]:
    """Run argv on a fresh pty; return its measurements."""
    env = dict(os.environ)
    env["TERM"] = "xterm-256color"
    for name in ("COLUMNS", "LINES"):
        env.pop(name, None)
    env["BENCH_OUT"] = out
    if os.path.exists(out):
        os.unlink(out)
    t0 = time.time()
    env["BENCH_T0"] = repr(t0)
    start = time.perf_counter_ns()
    pid, master = pty.fork()
    if pid == 0:  # the child: the pty is stdin, stdout, stderr and controlling terminal
        try:
            set_winsize(0, cols, rows)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    received = 0
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([master], [], [], min(left, 1.0))
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every slave fd is closed (the child has exited)
            break
        if not chunk:
            break
        received += len(chunk)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter_ns() - start
    os.close(master)
    figures = None
    try:
        with open(out, encoding="utf-8") as f:
            figures = json.load(f)
    except (OSError, ValueError):
        pass
    return {
        "wall_ms": wall / 1e6,
        "maxrss_kib": usage.ru_maxrss,
        "status": os.waitstatus_to_exitcode(status),
        "output_bytes": received,
        "figures": figures,
    }


def main(argv: list[str]) -> int:
    """Parse the arguments, run the rounds, print one JSON line per measured run."""
    try:
        cols, rows, warmup, n = (int(x) for x in argv[:4])
        out_dir = argv[4]
        assert argv[5] == "--"
        rest = argv[6:]
        commands = []
        while rest:
            cut = rest.index("--") if "--" in rest else len(rest)
            commands.append(rest[:cut])
            rest = rest[cut + 1 :]
        assert 1 <= len(commands) <= 2 and all(commands)
    except (ValueError, IndexError, AssertionError):
        print(__doc__, file=sys.stderr)
        return 2
    labels = ("A", "B")
    for i in range(warmup + n):
        order = list(range(len(commands)))
        if i % 2:
            order.reverse()
        for k in order:
            out = os.path.join(out_dir, f"run-{labels[k]}.json")
            result = run_one(commands[k], cols, rows, out)
            if i >= warmup:
                result["label"] = labels[k]
                print(json.dumps(result), flush=True)
    print(json.dumps({"timer_hwm_kib": own_hwm_kib()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
