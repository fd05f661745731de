"""What every rolecall benchmark module shares: paths, the children's environment, summaries,
the A/B timer and the verdict format.

See `bench/run.py` for the method.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
ROLECALL = ROOT / ".venv" / "bin" / "rolecall"
RESULTS = BENCH / "results"

# Environment variables that would change what is measured; they are removed for children.
# PYTHONDONTWRITEBYTECODE in particular makes every run recompile rolecall's own modules from
# source (src/ is an editable install), which no installed rolecall does; children get a
# bytecode cache in the bench's temp dir instead (PYTHONPYCACHEPREFIX), so nothing is written
# into the source tree.
NOISY_ENV = (
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPYCACHEPREFIX",
    "PYTHONUNBUFFERED",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONTRACEMALLOC",
    "PYTHONDEVMODE",
    "PYTHONMALLOC",
    "PYTHONMALLOCSTATS",
    "PYTHONASYNCIODEBUG",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONINSPECT",
    "PYTHONBREAKPOINT",
)
PYCACHE: dict[str, Path] = {}
"""`{"dir": PATH}` while a run is on: the children's bytecode cache (PYTHONPYCACHEPREFIX)."""


class BenchError(Exception):
    """Something the benchmark relies on did not hold (a failed run, a cache miss...)."""


@dataclass(frozen=True)
class Spread:
    """Median with min and max."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """Summarise `values` (at least one)."""
        return cls(statistics.median(values), min(values), max(values), len(values))

    def ms(self) -> str:
        """`12.3 [11.9-14.0]` (milliseconds)."""
        return f"{num(self.median)} [{num(self.low)}–{num(self.high)}]"

    def ratio(self) -> str:
        """`1.23× [1.01–1.50]`."""
        return f"{self.median:.2f}× [{self.low:.2f}–{self.high:.2f}]"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`, linear between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def num(ms: float) -> str:
    """Milliseconds: no decimals from 100 up, one below."""
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}"


def mib(kib: float) -> str:
    """KiB as `12.3 MiB`."""
    return f"{kib / 1024:.1f} MiB"


def verdict(met: bool) -> str:
    """`**MET**` or `**NOT MET**`."""
    return "**MET**" if met else "**NOT MET**"


def child_env(home: Path | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without rolecall settings or timing-changing Python flags."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("ROLECALL_") and k not in NOISY_ENV
    }
    if "dir" in PYCACHE:
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE["dir"])
    if home is not None:
        env["ROLECALL_HOME"] = str(home)
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class AbResult:
    """Whole-process A/B pairs from `ab_timer.py`: wall ms and peak RSS KiB per side."""

    a_ms: list[float]
    b_ms: list[float]
    a_rss_kib: list[float]
    b_rss_kib: list[float]
    timer_hwm_kib: int
    a_cpu_ms: list[float]
    b_cpu_ms: list[float]
    """User + system CPU time of each run (from `wait4`)."""

    @property
    def a(self) -> Spread:
        """A's wall time."""
        return Spread.of(self.a_ms)

    @property
    def b(self) -> Spread:
        """B's wall time."""
        return Spread.of(self.b_ms)

    @property
    def ratio(self) -> float:
        """Median A over median B."""
        return statistics.median(self.a_ms) / statistics.median(self.b_ms)

    @property
    def cpu_ratio(self) -> float:
        """Median CPU time of A over B's: what the host's load changes least."""
        return statistics.median(self.a_cpu_ms) / statistics.median(self.b_cpu_ms)

    @property
    def pair_ratio(self) -> Spread:
        """A/B of each pair."""
        return Spread.of([x / y for x, y in zip(self.a_ms, self.b_ms, strict=True)])


def ab_pairs(
    a: Sequence[str], b: Sequence[str], warmup: int, n: int, env: Mapping[str, str]
) -> AbResult:
    """Time `a` against `b` with `ab_timer.py` (alternated pairs, fresh processes)."""
    timer = [str(PYTHON), "-S", str(BENCH / "ab_timer.py"), str(warmup), str(n)]
    timed = subprocess.run(
        [*timer, "--", *a, "--", *b], capture_output=True, text=True, env=dict(env), check=False
    )
    if timed.returncode != 0:
        raise BenchError(f"ab_timer failed: {timed.stderr.strip()}")
    runs: dict[str, list[tuple[float, float, float]]] = {"A": [], "B": []}
    hwm = 0
    for line in timed.stdout.splitlines():
        fields = line.split()
        if fields[0] == "timer_hwm_kib":
            hwm = int(fields[1])
            continue
        label, wall_ns, rss, status, cpu_us = fields
        if status != "0":
            command = " ".join(a if label == "A" else b)
            raise BenchError(f"a timed run of `{command}` exited with {status}")
        runs[label].append((int(wall_ns) / 1e6, float(rss), int(cpu_us) / 1e3))
    return AbResult(
        a_ms=[wall for wall, _, _ in runs["A"]],
        b_ms=[wall for wall, _, _ in runs["B"]],
        a_rss_kib=[rss for _, rss, _ in runs["A"]],
        b_rss_kib=[rss for _, rss, _ in runs["B"]],
        timer_hwm_kib=hwm,
        a_cpu_ms=[cpu for _, _, cpu in runs["A"]],
        b_cpu_ms=[cpu for _, _, cpu in runs["B"]],
    )
