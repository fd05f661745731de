"""A lean external timer for whole-process A/B pairs; started by `bench/run.py`.

    python -S bench/ab_timer.py WARMUP N -- A_ARGV... -- B_ARGV...

Runs WARMUP pairs (discarded), then N pairs, alternating the order inside each pair (AB, BA,
AB, ...), so host drift hits both sides alike. Each child is started with `posix_spawn`, its
stdout and stderr go to /dev/null, and it is reaped with `wait4`: the wall time runs from just
before the spawn to just after the reap (`perf_counter_ns`), and the peak RSS is the child's
`ru_maxrss`. The environment is inherited from the caller.

Prints one line per measured run, `A|B WALL_NS MAXRSS_KIB EXIT_STATUS CPU_US` (CPU_US: the
child's user + system time from the same rusage), then `timer_hwm_kib KIB`.

Why a separate, import-free process: on Linux a spawned child's `ru_maxrss` starts from the
peak RSS of the process that spawned it (the parent's memory is the child's until `exec`), so
the timer must stay as small as `python -c pass` for that figure to mean anything. The last
line (this process's own VmHWM) is therefore the floor of every RSS figure reported.
"""

import os
import sys
import time


def spawn(argv: list[str]) -> tuple[int, int, int, int]:
    """Run argv once; return (wall ns, peak RSS KiB, exit status, CPU µs)."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter_ns() - start
    cpu = round((usage.ru_utime + usage.ru_stime) * 1e6)
    return wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status), cpu


def own_hwm_kib() -> int:
    """This process's peak RSS (VmHWM), in KiB; 0 when /proc is not there."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(argv: list[str]) -> int:
    """Parse `WARMUP N -- A... -- B...`, run the pairs, print the measurements."""
    try:
        warmup, n = int(argv[0]), int(argv[1])
        split = argv.index("--", 3)
        a, b = argv[3:split], argv[split + 1 :]
        assert argv[2] == "--" and a and b
    except (ValueError, IndexError, AssertionError):
        print(__doc__, file=sys.stderr)
        return 2
    lines = []
    for i in range(warmup + n):
        order = (("A", a), ("B", b)) if i % 2 == 0 else (("B", b), ("A", a))
        for label, command in order:
            wall, rss, code, cpu = spawn(command)
            if i >= warmup:
                lines.append(f"{label} {wall} {rss} {code} {cpu}")
    lines.append(f"timer_hwm_kib {own_hwm_kib()}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
