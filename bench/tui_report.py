"""The TUI section of the report: first paint (pty and tmux), key to paint, peak RSS.

Figures come from `tui_bench.measure`; `report` gives the markdown lines and the verdicts.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from common import Spread, mib, num, percentile, verdict
from tui_bench import (
    KEY_MEDIAN_TARGET,
    KEY_P95_TARGET,
    KEYS_ROLES,
    PAINT_TARGET,
    RSS_TARGET_MIB,
    Run,
    TuiResult,
    TuiSettings,
)


def _spread(values: Sequence[float]) -> str:
    return Spread.of(values).ms()


PAINT_PHASES = (
    ("fork → script start (interpreter start-up)", "", "start"),
    ("imports (textual; rolecall.ui.app and the core for rolecall)", "start", "imports"),
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
        "rolecall is built as `rolecall` alone builds it (`rolecall.ui.launch.prepared_app`: "
        "catalogue from the warm parsed cache → `Workspace` → `make_app`).",
        "",
        "| roles | rolecall first paint | minimal app first paint | ratio of medians "
        "| paired ratio | ratio of the fastest runs | CPU time to first paint, ratio ¹ "
        "| rolecall: imports done / catalogue loaded / app built | boto3 imported "
        "before first paint | process wall (incl. exit) | peak RSS | target | verdict |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---|---|",
    ]
    for roles, p in r.paints.items():
        target = PAINT_TARGET[roles]
        met = p.ratio <= target
        verdicts.append(
            (
                f"first paint on a pty, {roles:,} roles ≤ {target}× minimal app",
                f"{p.ratio:.2f}× (fastest runs {p.min_ratio:.2f}×)",
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
            f"| {p.pair_ratio.ratio()} | {p.min_ratio:.2f}× "
            f"| {_cpu(p.rolecall)} vs {_cpu(p.minimal)}: {p.cpu_ratio:.2f}× | {marks} "
            f"| {_yes_no(p.rolecall, 'boto3_at_first_paint')} "
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
    if r.tmux:
        tmux_lines, tmux_verdicts = _tmux_report(r, s)
        lines += tmux_lines
        verdicts += tmux_verdicts
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
    if r.keys_installed:
        more, said = _installed_keys_report(r)
        lines += more
        verdicts += said
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


def _tmux_report(r: TuiResult, s: TuiSettings) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """The first-paint table for tmux, and its verdicts."""
    verdicts: list[tuple[str, str, bool]] = []
    n = len(next(iter(r.tmux.values())).minimal)
    lines = [
        "",
        "### 3b. First content paint in a real terminal: tmux, vs the same minimal app",
        "",
        "Each process is the only process of its own 150×40 session on a private tmux server "
        "(no status line; TERM=xterm-256color): tmux reads and parses what the TUI writes, "
        "keeps the screen and answers the TUI's terminal queries. rolecall is the executable's "
        "own path, `rolecall.entry.run()` (argv handling, the catalogue from "
        "the warm parsed cache, the app), with the probe's paint hook on `App`, from the "
        "development venv (editable) and from a regular `pip install` (installed: a wheel in "
        "its own venv), as `rolecall` and, at 10,000 roles, as `rolecall --catalogue PATH` "
        "(the TUI on a named catalogue: the same fast path); the minimal app runs on the "
        "same interpreter as its rolecall. "
        "Milliseconds "
        "from the fork in the pane's launcher (`tmux_launch.py`) to the first content paint, "
        f"median [min–max]; n = {n} alternated pairs after 1 warm-up pair; each process calls "
        "`exit()` at that paint.",
        "",
        "| roles | command | install | rolecall first paint | minimal app first paint "
        "| ratio of medians | paired ratio | ratio of the fastest runs "
        "| CPU time to first paint, ratio ¹ "
        "| process wall (incl. exit) | peak RSS | target | verdict |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for (roles, install, shape), p in r.tmux.items():
        command = f"`rolecall {shape} PATH`" if shape else "`rolecall`"
        target = PAINT_TARGET[roles]
        met = p.ratio <= target
        verdicts.append(
            (
                f"first paint in tmux, {command}, {roles:,} roles ({install}) ≤ {target}× "
                "minimal app",
                f"{p.ratio:.2f}× (fastest runs {p.min_ratio:.2f}×)",
                met,
            )
        )
        lines.append(
            f"| {roles:,} | {command} | {install} | {_spread([x.first_paint for x in p.rolecall])} "
            f"| {_spread([x.first_paint for x in p.minimal])} | {p.ratio:.2f}× "
            f"| {p.pair_ratio.ratio()} | {p.min_ratio:.2f}× "
            f"| {_cpu(p.rolecall)} vs {_cpu(p.minimal)}: {p.cpu_ratio:.2f}× "
            f"| {num(statistics.median(x.wall_ms for x in p.rolecall))} vs "
            f"{num(statistics.median(x.wall_ms for x in p.minimal))} "
            f"| {mib(statistics.median(x.maxrss_kib for x in p.rolecall))} vs "
            f"{mib(statistics.median(x.maxrss_kib for x in p.minimal))} "
            f"| ≤ {target}× | {verdict(met)} |"
        )
    return lines, verdicts


def _installed_keys_report(r: TuiResult) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """Key to paint and peak RSS of the typing runs from a regular install, and verdicts."""
    finite = [
        v if not math.isnan(v) else math.inf
        for v in (st["key_to_paint_ms"] for st in key_samples(r.keys_installed))
    ]
    median, p95 = statistics.median(finite), percentile(finite, 95)
    peak = max(run.maxrss_kib for run in r.keys_installed)
    checks = [
        ("median key→paint", f"{num(median)} ms", median <= KEY_MEDIAN_TARGET, KEY_MEDIAN_TARGET),
        ("p95 key→paint", f"{num(p95)} ms", p95 <= KEY_P95_TARGET, KEY_P95_TARGET),
    ]
    lines = [
        "",
        f"The same typing runs from a regular install (`pip install .` into a venv of its own; "
        f"{len(r.keys_installed)} processes, {len(finite)} samples):",
        "",
        "| metric | value | target | verdict |",
        "|---|---:|---|---|",
    ]
    verdicts: list[tuple[str, str, bool]] = []
    for name, shown, met, target in checks:
        lines.append(f"| {name} | {shown} | ≤ {target:.0f} ms | {verdict(met)} |")
        short = name.replace(" key→paint", "")
        verdicts.append(
            (f"key→paint {short}, {KEYS_ROLES:,} roles (installed) ≤ {target:.0f} ms", shown, met)
        )
    met = peak / 1024 <= RSS_TARGET_MIB
    lines.append(
        f"| peak RSS after the search | {mib(peak)} | ≤ {RSS_TARGET_MIB:.0f} MiB | {verdict(met)} |"
    )
    verdicts.append(
        (
            f"peak RSS, TUI with {KEYS_ROLES:,} roles (installed) ≤ {RSS_TARGET_MIB:.0f} MiB",
            mib(peak),
            met,
        )
    )
    return lines, verdicts
