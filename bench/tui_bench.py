"""TUI figures on a real pseudo-terminal: first paint, keystroke to painted result, peak RSS.

Called by `bench/run.py`. Every TUI process is `.venv/bin/python bench/tui_probe.py ...` on
its own 150x40 pty with TERM=xterm-256color, started and drained by `pty_timer.py` (a lean
`python -S` process that reaps it with `wait4`), in the same isolated environment as the STS
benchmarks (so the TUI's GetCallerIdentity goes to the local moto server), with the
generated catalogue's parsed cache warm in `ROLECALL_HOME` (checked: never rewritten).

3. First content paint with 10,000 and 50,000 roles against a minimal Textual app (one
   `Input`), alternated pairs; each process exits at its first content paint. Milliseconds
   since the fork (the child reports `time.time()` at the paint against the parent's
   `time.time()` just before the fork).
4. Keystroke to painted result at 50,000 roles: `tui_probe.py rolecall keys ROUNDS`.
5. Peak RSS (`ru_maxrss` from `wait4`) of the 50,000-role TUI processes above.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import gen_catalogue
import tmux_paint
from common import (
    BENCH,
    PYTHON,
    BenchError,
    Spread,
    child_env,
)

COLS, ROWS = 150, 40
SIZES = (10_000, 50_000)
PAINT_TARGET = {10_000: 1.25, 50_000: 1.35}
"""First content paint within these multiples of the minimal app's (issue #15), on the pty and
in tmux."""
KEY_MEDIAN_TARGET = 25.0
KEY_P95_TARGET = 50.0
RSS_TARGET_MIB = 75.0
"""Peak RSS after a search (the typing runs) and at first paint (issue #15)."""
KEYS_ROLES = 50_000
CATALOGUE_SHAPE_ROLES = 10_000
"""`rolecall --catalogue PATH` is measured in tmux at this size (the tighter target)."""


@dataclass(frozen=True)
class TuiSettings:
    """How many runs of each kind."""

    paint_n: int
    paint_warmup: int
    """Warm-up pairs before the first size's pairs (they also fill the bytecode cache)."""
    paint_warmup_later: int
    """Warm-up pairs before each later size's pairs."""
    keys_runs: int
    keys_rounds: int
    tmux_n: int
    """Alternated pairs in tmux at each size (after one warm-up pair)."""


FULL = TuiSettings(
    paint_n=21, paint_warmup=1, paint_warmup_later=1, keys_runs=3, keys_rounds=3, tmux_n=21
)
QUICK = TuiSettings(
    paint_n=2, paint_warmup=1, paint_warmup_later=0, keys_runs=1, keys_rounds=1, tmux_n=2
)


@dataclass(frozen=True)
class Run:
    """One TUI process, as `pty_timer.py` reports it."""

    label: str
    wall_ms: float
    maxrss_kib: float
    figures: dict[str, Any]

    @property
    def first_paint(self) -> float:
        """Milliseconds from the fork to the first content paint."""
        return float(self.figures["first_paint_ms"])

    def mark(self, name: str) -> float:
        """A milestone in ms since the fork (NaN if absent)."""
        return float(self.figures["marks"].get(name, math.nan))


@dataclass(frozen=True)
class PaintResult:
    """First paint, rolecall (A) against the minimal app (B)."""

    roles: int
    rolecall: list[Run]
    minimal: list[Run]

    @property
    def ratio(self) -> float:
        """Median first paint over the minimal app's."""
        return statistics.median(r.first_paint for r in self.rolecall) / statistics.median(
            r.first_paint for r in self.minimal
        )

    @property
    def cpu_ratio(self) -> float:
        """Median process CPU time up to first paint over the minimal app's."""
        mine = statistics.median(float(r.figures["cpu_at_first_paint_ms"]) for r in self.rolecall)
        theirs = statistics.median(float(r.figures["cpu_at_first_paint_ms"]) for r in self.minimal)
        return mine / theirs

    @property
    def min_ratio(self) -> float:
        """Fastest first paint over the minimal app's fastest: the host's slow spells only
        ever add time, so this is the steadiest of the ratios from run to run (reported, not
        the verdict)."""
        return min(r.first_paint for r in self.rolecall) / min(r.first_paint for r in self.minimal)

    @property
    def pair_ratio(self) -> Spread:
        """Per-pair first paint ratio."""
        return Spread.of(
            [
                a.first_paint / b.first_paint
                for a, b in zip(self.rolecall, self.minimal, strict=True)
            ]
        )


@dataclass
class TuiResult:
    """Everything the TUI section reports."""

    paints: dict[int, PaintResult] = field(default_factory=dict)
    keys: list[Run] = field(default_factory=list)
    keys_installed: list[Run] = field(default_factory=list)
    """The typing runs again, from a regular install (`installed.py`)."""
    tmux: dict[tuple[int, str, str], PaintResult] = field(default_factory=dict)
    """First paint in tmux, by (roles, install, shape): the `rolecall` executable's own path
    (`rolecall`, or `rolecall --catalogue PATH`) against the minimal app on the same
    interpreter (the development venv, or a regular install)."""


# ---------------------------------------------------------------------------------------------
# Running


def prepare(home: Path, roles: int) -> Path:
    """The generated catalogue in `home/config`, with its parsed cache warm; the cache file."""
    catalogue = home / "config" / "accounts.toml"
    if not catalogue.exists():
        gen_catalogue.write_catalogue(catalogue, roles)
    cache_dir = home / "cache"
    if not list((cache_dir / "catalogues").glob("*.marshal")):
        subprocess.run(
            [str(PYTHON), str(BENCH / "load_probe.py"), str(catalogue), str(cache_dir), "x"],
            capture_output=True,
            check=True,
            env=child_env(),
        )
    files = list((cache_dir / "catalogues").glob("*.marshal"))
    if len(files) != 1:
        raise BenchError(f"expected one catalogue cache file in {cache_dir}, found {len(files)}")
    return files[0]


def pty_runs(
    commands: Sequence[Sequence[str]], warmup: int, n: int, env: Mapping[str, str], work: Path
) -> list[Run]:
    """Run the commands (one, or an A/B pair) on ptys with `pty_timer.py`."""
    out_dir = work / "pty-out"
    out_dir.mkdir(exist_ok=True)
    argv = [str(PYTHON), "-S", str(BENCH / "pty_timer.py"), str(COLS), str(ROWS)]
    argv += [str(warmup), str(n), str(out_dir)]
    for command in commands:
        argv += ["--", *command]
    done = subprocess.run(argv, capture_output=True, text=True, env=dict(env), check=False)
    if done.returncode != 0:
        raise BenchError(f"pty_timer failed: {done.stderr.strip()}")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    return _runs(records)


def _runs(records: Sequence[dict[str, Any]]) -> list[Run]:
    """Runs from timer records; an error if any run failed or never painted."""
    runs = []
    for record in records:
        if "label" not in record:
            continue
        line = json.dumps(record)
        figures = record["figures"]
        if record["status"] != 0 or not figures or figures.get("first_paint_ms") is None:
            raise BenchError(f"a TUI run failed: {line[:300]}")
        runs.append(Run(record["label"], record["wall_ms"], record["maxrss_kib"], figures))
    return runs


def fingerprint(path: Path) -> tuple[int, int, int]:
    """(inode, size, mtime): what changes if the file is rewritten."""
    info = path.stat()
    return info.st_ino, info.st_size, info.st_mtime_ns


def measure(
    work: Path,
    homes: Mapping[int, Path],
    env_for: Any,
    s: TuiSettings,
    log: IO[str],
    installed: Path | None = None,
) -> TuiResult:
    """First paint at each size, then the typing runs at 50,000 roles.

    `env_for(home)` gives the environment for a TUI process using `home`; `installed` is the
    `rolecall` script of a regular install (`installed.py`), measured in tmux beside the
    development venv.
    """
    result = TuiResult()
    probe = [str(PYTHON), str(BENCH / "tui_probe.py")]
    minimal = [*probe, "minimal", "paint"]
    for roles in SIZES:
        home = homes[roles]
        cache = prepare(home, roles)
        before = fingerprint(cache)
        print(f"bench: TUI first paint, {roles:,} roles...", file=log, flush=True)
        warmup = s.paint_warmup if roles == SIZES[0] else s.paint_warmup_later
        runs = pty_runs(
            [[*probe, "rolecall", "paint"], minimal], warmup, s.paint_n, env_for(home), work
        )
        result.paints[roles] = PaintResult(
            roles,
            [r for r in runs if r.label == "A"],
            [r for r in runs if r.label == "B"],
        )
        if roles == KEYS_ROLES:
            print(f"bench: TUI typing, {roles:,} roles...", file=log, flush=True)
            keys = [*probe, "rolecall", "keys", str(s.keys_rounds)]
            result.keys = pty_runs([keys], 0, s.keys_runs, env_for(home), work)
            if installed is not None:
                print(f"bench: TUI typing, {roles:,} roles (installed)...", file=log, flush=True)
                keys_installed = [str(installed.parent / "python"), *keys[1:]]
                result.keys_installed = pty_runs(
                    [keys_installed], 0, s.keys_runs, env_for(home), work
                )
        pythons = {"editable": PYTHON}
        if installed is not None:
            pythons["installed"] = installed.parent / "python"
        shapes: dict[str, list[str]] = {"": []}
        if roles == CATALOGUE_SHAPE_ROLES:
            shapes["--catalogue"] = ["--", "--catalogue", str(home / "config" / "accounts.toml")]
        runs_in_tmux = [
            (install, python, shape, args)
            for install, python in pythons.items()
            for shape, args in shapes.items()
        ]
        for install, python, shape, args in (
            runs_in_tmux if tmux_paint.available() and s.tmux_n else ()
        ):
            label = f"rolecall {shape}".strip()
            print(
                f"bench: TUI first paint in tmux, `{label}`, {roles:,} roles ({install})...",
                file=log,
                flush=True,
            )
            script = str(BENCH / "tui_probe.py")
            commands = [[str(python), script, "entry", "paint", *args]]
            commands.append([str(python), script, "minimal", "paint"])
            records = tmux_paint.tmux_runs(commands, 1, s.tmux_n, env_for(home), work)
            tmux = _runs(records)
            result.tmux[roles, install, shape] = PaintResult(
                roles, [r for r in tmux if r.label == "A"], [r for r in tmux if r.label == "B"]
            )
        if fingerprint(cache) != before:
            raise BenchError(f"a TUI run at {roles:,} roles rewrote the catalogue cache (a miss)")
        tmux_runs = [r for (n, *_), p in result.tmux.items() if n == roles for r in p.rolecall]
        for run in [*result.paints[roles].rolecall, *tmux_runs]:
            if run.figures.get("roles") != roles:
                raise BenchError(f"the TUI showed {run.figures.get('roles')} roles, not {roles}")
    return result
