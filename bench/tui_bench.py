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
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import gen_catalogue
from common import (
    BENCH,
    PYTHON,
    BenchError,
    Spread,
    child_env,
    mib,
    num,
    percentile,
    verdict,
)

COLS, ROWS = 150, 40
SIZES = (10_000, 50_000)
PAINT_TARGET = {10_000: 1.3, 50_000: 1.6}
"""First content paint within these multiples of the minimal app's."""
KEY_MEDIAN_TARGET = 25.0
KEY_P95_TARGET = 50.0
RSS_TARGET_MIB = 100.0
KEYS_ROLES = 50_000


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


FULL = TuiSettings(paint_n=11, paint_warmup=1, paint_warmup_later=1, keys_runs=3, keys_rounds=3)
QUICK = TuiSettings(paint_n=2, paint_warmup=1, paint_warmup_later=0, keys_runs=1, keys_rounds=1)


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
    runs = []
    for line in done.stdout.splitlines():
        record = json.loads(line)
        if "label" not in record:
            continue
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
    work: Path, homes: Mapping[int, Path], env_for: Any, s: TuiSettings, log: IO[str]
) -> TuiResult:
    """First paint at each size, then the typing runs at 50,000 roles.

    `env_for(home)` gives the environment for a TUI process using `home`.
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
        if fingerprint(cache) != before:
            raise BenchError(f"a TUI run at {roles:,} roles rewrote the catalogue cache (a miss)")
        for run in result.paints[roles].rolecall:
            if run.figures.get("roles") != roles:
                raise BenchError(f"the TUI showed {run.figures.get('roles')} roles, not {roles}")
    return result


# ---------------------------------------------------------------------------------------------
# Report


def _spread(values: Sequence[float]) -> str:
    return Spread.of(values).ms()


PAINT_PHASES = (
    ("fork → script start (interpreter start-up)", "", "start"),
    ("imports (textual; rolecall.ui.app and the CLI for rolecall)", "start", "imports"),
    ("catalogue load (warm parsed cache)", "imports", "catalogue"),
    ("catalogue → app built (`Workspace`, `make_app`)", "catalogue", "data"),
    (
        "app built → first content paint (`App.run`: driver, CSS, compose, mount, frame)",
        "data",
        "first_paint",
    ),
    ("**fork → first content paint**", "", "first_paint"),
)


def _phase(runs: Sequence[Run], start: str, end: str) -> str:
    """Median ms between two milestones ("" = the fork); "–" where a run lacks them."""
    values = []
    for run in runs:
        marks = run.figures["marks"]
        if end not in marks:
            return "–"
        if not start:
            begin = 0.0
        elif start in marks:
            begin = marks[start]
        elif start == "catalogue":  # the minimal app has no catalogue to load
            begin = marks["imports"]
        else:
            return "–"
        values.append(marks[end] - begin)
    return num(statistics.median(values))


def _cpu(runs: Sequence[Run]) -> str:
    values = [run.figures.get("cpu_at_first_paint_ms") for run in runs]
    present = [v for v in values if v is not None]
    return num(statistics.median(present)) if present else "–"


def _gc_before(runs: Sequence[Run], generation: int) -> str:
    values = []
    for run in runs:
        gc = run.figures["gc_before_first_paint"]
        if generation >= 0:
            values.append(gc["total_ms"][generation])
        else:
            values.append(gc["total_ms"][0] + gc["total_ms"][1])
    return num(statistics.median(values))


def _yes_no(runs: Sequence[Run], key: str) -> str:
    flags = {bool(r.figures.get(key)) for r in runs}
    return "yes" if flags == {True} else "no" if flags == {False} else "sometimes"


def key_samples(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Every typing step of every run."""
    return [step for run in runs for step in run.figures["steps"]]


def report(r: TuiResult, s: TuiSettings) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """Markdown lines, and (name, figure, met) for the summary."""
    verdicts: list[tuple[str, str, bool]] = []
    lines = [
        "## TUI on a pseudo-terminal (150×40, TERM=xterm-256color, parent drains the master)",
        "",
        "### 3. First content paint vs a minimal Textual app (one `Input`)",
        "",
        f"Milliseconds from the fork to the first content paint (the first `App._display` with "
        f"a non-None `CompositorUpdate` after mount; for rolecall one that covers the catalogue "
        f"list with its rows laid out), median [min–max]; n = {s.paint_n} alternated pairs "
        f"after {s.paint_warmup} warm-up pair(s); each process calls `exit()` at that paint. "
        "rolecall is built as `cmd_tui` builds it (`cli.Context` → catalogue from the warm "
        "parsed cache → `Workspace` → `make_app`).",
        "",
        "| roles | rolecall first paint | minimal app first paint | ratio of medians "
        "| paired ratio | CPU time to first paint, ratio ¹ "
        "| rolecall: imports done / catalogue loaded / app built | boto3 imported "
        "before first paint | process wall (incl. exit) | peak RSS | target | verdict |",
        "|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---|---|",
    ]
    for roles, p in r.paints.items():
        target = PAINT_TARGET[roles]
        met = p.ratio <= target
        verdicts.append(
            (
                f"first paint, {roles:,} roles ≤ {target}× minimal app",
                f"{p.ratio:.2f}× (CPU {p.cpu_ratio:.2f}×)",
                met,
            )
        )
        marks = " / ".join(
            num(statistics.median(run.mark(m) for run in p.rolecall))
            for m in ("imports", "catalogue", "data")
        )
        lines.append(
            f"| {roles:,} | {_spread([x.first_paint for x in p.rolecall])} "
            f"| {_spread([x.first_paint for x in p.minimal])} | {p.ratio:.2f}× "
            f"| {p.pair_ratio.ratio()} | {_cpu(p.rolecall)} vs {_cpu(p.minimal)}: "
            f"{p.cpu_ratio:.2f}× | {marks} | {_yes_no(p.rolecall, 'boto3_at_first_paint')} "
            f"(botocore: {_yes_no(p.rolecall, 'botocore_at_first_paint')}) "
            f"| {num(statistics.median(x.wall_ms for x in p.rolecall))} vs "
            f"{num(statistics.median(x.wall_ms for x in p.minimal))} "
            f"| {mib(statistics.median(x.maxrss_kib for x in p.rolecall))} vs "
            f"{mib(statistics.median(x.maxrss_kib for x in p.minimal))} "
            f"| ≤ {target}× | {verdict(met)} |"
        )
    if r.paints:
        lines += [
            "",
            "¹ Process CPU time (all threads, `time.process_time`) from start to the first "
            "content paint, medians and their ratio: the host's load inflates wall times but "
            "hardly CPU times. The verdict uses wall times.",
            "",
            "Where the first-paint time goes (medians, ms; the milestones are the probe's own: "
            "script start, imports done, catalogue loaded, app built, first content paint):",
            "",
            "| phase | "
            + " | ".join(f"rolecall {roles // 1000}k | minimal" for roles in r.paints)
            + " |",
            "|---|" + "---:|---:|" * len(r.paints),
        ]
        for name, start, end in PAINT_PHASES:
            cells = []
            for p in r.paints.values():
                cells.append(_phase(p.rolecall, start, end))
                cells.append(_phase(p.minimal, start, end))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        cells = []
        for p in r.paints.values():
            cells += [_cpu(p.rolecall), _cpu(p.minimal)]
        lines.append(
            "| process CPU time, start → first content paint (all threads; wall minus this is "
            "waiting, mostly for the host's CPUs) | " + " | ".join(cells) + " |"
        )
        for label, generation in (("GC gen 2 before first paint", 2), ("GC gen 0+1", -1)):
            cells = []
            for p in r.paints.values():
                cells += [_gc_before(p.rolecall, generation), _gc_before(p.minimal, generation)]
            lines.append(f"| {label} (inside the phases above) | " + " | ".join(cells) + " |")
    steps = key_samples(r.keys)
    if steps:
        values = [st["key_to_paint_ms"] for st in steps]
        finite = [v if not math.isnan(v) else math.inf for v in values]
        median, p95 = statistics.median(finite), percentile(finite, 95)
        timeouts = sum(1 for v in values if math.isnan(v))
        lines += [
            "",
            f"### 4. Keystroke to painted result, {KEYS_ROLES:,} roles",
            "",
            f"{len(r.keys)} processes × {s.keys_rounds} rounds of the sequence `p`, `pr`, …, "
            "`prod-payments`, then `''` (restore all rows): the search `Input`'s value is set "
            "from a worker on the app's event loop 0.5 s after first paint and 0.1 s after each "
            "painted result; each step is timed from just before the value is set to the end of "
            "the first paint that covers the list after the app applied the query. "
            f"{len(values)} samples"
            + (f", {timeouts} timed out (> 10 s)" if timeouts else "")
            + ".",
            "",
            "| metric | value | target | verdict |",
            "|---|---:|---|---|",
        ]
        met_median = median <= KEY_MEDIAN_TARGET
        met_p95 = p95 <= KEY_P95_TARGET
        lines.append(
            f"| median key→paint | {num(median)} ms | ≤ {KEY_MEDIAN_TARGET:.0f} ms "
            f"| {verdict(met_median)} |"
        )
        lines.append(
            f"| p95 key→paint | {num(p95)} ms | ≤ {KEY_P95_TARGET:.0f} ms | {verdict(met_p95)} |"
        )
        verdicts.append(
            (
                f"key→paint median, {KEYS_ROLES:,} roles ≤ {KEY_MEDIAN_TARGET:.0f} ms",
                f"{num(median)} ms",
                met_median,
            )
        )
        verdicts.append(
            (
                f"key→paint p95, {KEYS_ROLES:,} roles ≤ {KEY_P95_TARGET:.0f} ms",
                f"{num(p95)} ms",
                met_p95,
            )
        )
        by_query: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for st in steps:
            by_query[st["query"]].append(st)
        lines += [
            "",
            "Where the time goes, per step (medians over rounds and processes, ms): "
            "key→`_filter` is the Input's `Changed` message reaching the app; `_filter` is the "
            "search plus `CatalogueList.set_rows`; `_filter`→paint is the rest up to the painted "
            "result. main CPU = the main thread's CPU time over the step (`time.thread_time`; "
            "the rest of key→paint is waiting: for the next frame, for other threads, or for "
            "the host's CPUs); paints = frames painted during the step (Textual paints at most "
            "one frame per 1/60 s, and only once the screen is idle); frames = wall (CPU) time "
            "in `Screen._on_timer_update` (layout, compositor, ANSI, write) during the step; "
            "GC = time in the cyclic garbage collector during the step (any thread).",
            "",
            "| query | rows | key→paint | max | key→`_filter` | `_filter` | `_filter`→paint "
            "| main CPU | paints | frames | GC | steps with a gen-2 GC |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for query, group in by_query.items():

            def med(key: str, group: list[dict[str, Any]] = group) -> str:
                vals = [g[key] for g in group if g[key] is not None and not math.isnan(g[key])]
                return num(statistics.median(vals)) if vals else "–"

            worst = max(g["key_to_paint_ms"] for g in group)
            shown = query or "''"
            gen2 = sum(1 for g in group if g["gen2_collections"])
            lines.append(
                f"| `{shown}` | {group[0]['rows']:,} | {med('key_to_paint_ms')} "
                f"| {num(worst)} | {med('key_to_filter_ms')} | {med('filter_ms')} "
                f"| {med('filter_to_paint_ms')} | {med('main_thread_cpu_ms')} | {med('paints')} "
                f"| {med('screen_update_ms')} ({med('screen_update_cpu_ms')}) "
                f"| {med('gc_ms')} | {gen2}/{len(group)} |"
            )
        clean = [st["key_to_paint_ms"] for st in steps if not st["gen2_collections"]]
        typing_gc = [run.figures["gc_while_typing"] for run in r.keys]
        count2 = sum(g["count"][2] for g in typing_gc)
        total2 = sum(g["total_ms"][2] for g in typing_gc)
        total1 = sum(g["total_ms"][1] for g in typing_gc)
        longest2 = max(g["max_ms"][2] for g in typing_gc)
        objects = statistics.median(run.figures["tracked_objects_after_typing"] for run in r.keys)
        cpu = [st["main_thread_cpu_ms"] for st in steps]
        lines += [
            "",
            f"Main-thread CPU per step over all samples: median {num(statistics.median(cpu))} ms, "
            f"p95 {num(percentile(cpu, 95))} ms (key→paint minus this is waiting).",
            "",
            f"GC while typing (all runs): {count2} generation-2 collections, {num(total2)} ms in "
            f"total, longest {num(longest2)} ms; generation 1: {num(total1)} ms in total; "
            f"{objects:,.0f} GC-tracked objects after typing (median). Steps without a gen-2 "
            f"collection: median {num(statistics.median(clean)) if clean else '–'} ms, p95 "
            f"{num(percentile(clean, 95)) if clean else '–'} ms (n = {len(clean)}).",
        ]
    big = r.paints.get(KEYS_ROLES)
    if big is not None:
        paint_rss = [x.maxrss_kib for x in big.rolecall]
        keys_rss = [x.maxrss_kib for x in r.keys]
        worst = max(paint_rss + keys_rss)
        met = worst / 1024 <= RSS_TARGET_MIB
        verdicts.append(
            (f"peak RSS, TUI with {KEYS_ROLES:,} roles ≤ {RSS_TARGET_MIB:.0f} MiB", mib(worst), met)
        )
        lines += [
            "",
            f"### 5. Peak RSS of the TUI, {KEYS_ROLES:,} roles (`ru_maxrss` from `wait4`)",
            "",
            "| process | peak RSS, median [min–max] | boto3 imported by exit |",
            "|---|---:|---|",
            f"| exits at first paint (n = {len(paint_rss)}) | {mib(statistics.median(paint_rss))} "
            f"[{mib(min(paint_rss))}–{mib(max(paint_rss))}] "
            f"| {_yes_no(big.rolecall, 'boto3_at_exit')} |",
        ]
        if keys_rss:
            lines.append(
                f"| typing runs (n = {len(keys_rss)}, {s.keys_rounds} rounds each) "
                f"| {mib(statistics.median(keys_rss))} [{mib(min(keys_rss))}–{mib(max(keys_rss))}] "
                f"| {_yes_no(r.keys, 'boto3_at_exit')} |"
            )
        lines += [
            "",
            f"Verdict on the worst of these: {mib(worst)} vs ≤ {RSS_TARGET_MIB:.0f} MiB → "
            f"{verdict(met)}. The minimal app: "
            f"{mib(statistics.median(x.maxrss_kib for x in big.minimal))}.",
            "",
            "Where the memory goes: the process's VmRSS at each milestone (median), against the "
            "minimal app's.",
            "",
            "| process | " + " | ".join(RSS_MARKS.values()) + " | peak |",
            "|---|" + "---:|" * (len(RSS_MARKS) + 1),
            _rss_row(f"rolecall, {KEYS_ROLES:,} roles, typing runs", r.keys),
            _rss_row(f"rolecall, {KEYS_ROLES:,} roles, paint runs", big.rolecall),
            _rss_row("minimal app", big.minimal),
        ]
    return lines, verdicts


RSS_MARKS = {
    "imports": "imports done",
    "catalogue": "catalogue loaded",
    "data": "app built",
    "first_paint": "first paint",
    "typed": "after typing",
}


def _rss_row(name: str, runs: Sequence[Run]) -> str:
    cells = []
    for mark in RSS_MARKS:
        values = [run.figures.get("rss_kib", {}).get(mark) for run in runs]
        present = [v for v in values if v]
        cells.append(mib(statistics.median(present)) if present else "–")
    peak = mib(statistics.median(run.maxrss_kib for run in runs)) if runs else "–"
    return f"| {name} | " + " | ".join(cells) + f" | {peak} |"
