"""Shell integration: TAB completion of catalogue targets in bash, and `rolecall prompt`.

Called by `bench/run.py` (section `shell`). For 1k and 50k roles (catalogues from
`gen_catalogue.py`, parsed cache and names file seeded by `load_probe.py`):

1. TAB, whole process: `bash --norc --noprofile -ic` that sources the completion script,
   sets COMP_WORDS to `rolecall exec PREFIX` and calls `_rolecall`, against the same bash
   running `:` (what the shell itself costs), alternated (`ab_timer.py`). The names file is
   fresh, so no rolecall process runs; the run checks the names file is never rewritten.
2. TAB, in the shell: the `_rolecall` call alone, timed with `$EPOCHREALTIME` inside a fresh
   bash each run (the first TAB of a session: the names file is read then).
3. The fallback: `rolecall __complete names` with the names file removed before each run
   (a cache hit that rewrites it).

`rolecall prompt --color` inside a rolecall shell (environment only) against `python -c pass`.
Targets: TAB under 150 ms including the shell function; prompt within 1.5x `python -c pass`.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import gen_catalogue
from common import BENCH, PYTHON, ROLECALL, BenchError, Spread, ab_pairs, child_env, num

SIZES = (1_000, 50_000)
TAB_TARGET_MS = 150.0
"""A TAB that completes targets, shell function included, in under this."""
PROMPT_RATIO = 1.5
"""`rolecall prompt` within this many times `python -c pass`."""


@dataclass(frozen=True)
class ShellSettings:
    """How many runs of each kind."""

    n: int
    warmup: int


FULL = ShellSettings(n=21, warmup=3)
QUICK = ShellSettings(n=5, warmup=1)


@dataclass(frozen=True)
class TabResult:
    """Completion figures for one catalogue size."""

    roles: int
    prefix: str
    offered: int
    tab: Spread
    bare_bash: Spread
    in_shell: Spread
    fallback: Spread


@dataclass(frozen=True)
class ShellResult:
    """Every figure of the section."""

    tabs: list[TabResult]
    prompt: Spread
    bare: Spread
    installed: tuple[Spread, Spread] | None = None
    """`rolecall prompt` from a regular install, and its own `python -c pass`."""

    @property
    def prompt_ratio(self) -> float:
        """Median prompt time over median `python -c pass`."""
        return self.prompt.median / self.bare.median


def _driver(script: Path, prefix: str, timed: bool) -> str:
    call = "_rolecall"
    if timed:
        call = "t0=$EPOCHREALTIME; _rolecall; t1=$EPOCHREALTIME; echo $t0 $t1"
    return (
        f"source {script}; COMP_WORDS=(rolecall exec {prefix}); COMP_CWORD=2; {call}; "
        'printf "%s\\n" "${#COMPREPLY[@]}" >&2'
    )


def _bash(command: str) -> list[str]:
    return ["/bin/bash", "--norc", "--noprofile", "-i", "-c", command]


def measure_tab(roles: int, work: Path, s: ShellSettings) -> TabResult:
    """Completion of `rolecall exec PREFIX` over `roles` roles."""
    home = work / f"shell-{roles}"
    catalogue = gen_catalogue.write_catalogue(home / "config" / "accounts.toml", roles)
    env = child_env(home)
    seeded = subprocess.run(
        [PYTHON, BENCH / "load_probe.py", catalogue, home / "cache", "x", "--lift-cap"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if seeded.returncode != 0:
        raise BenchError(f"seeding the cache failed: {seeded.stderr.strip()}")
    names = sorted((home / "cache" / "catalogues").glob("*.names"))
    if len(names) != 1:
        raise BenchError(f"expected one names file, found {len(names)}")
    lines = names[0].read_text().splitlines()
    targets = lines[int(lines[0]) + 1 :]
    prefix = targets[len(targets) // 2].split("/")[0]  # one account's roles
    script = home / "completion.bash"
    script.write_text(
        subprocess.run(
            [ROLECALL, "completion", "bash"], capture_output=True, text=True, env=env, check=True
        ).stdout
    )
    before = names[0].stat().st_mtime_ns
    probe = subprocess.run(
        _bash(_driver(script, prefix, True)), capture_output=True, text=True, env=env, check=True
    )
    offered = int(probe.stderr.strip().splitlines()[-1])
    if offered < 1:
        raise BenchError(f"`rolecall exec {prefix}<TAB>` offered nothing")
    timed = ab_pairs(_bash(_driver(script, prefix, False)), _bash(":"), s.warmup, s.n, env)
    inside: list[float] = []
    for _ in range(s.n):
        done = subprocess.run(
            _bash(_driver(script, prefix, True)),
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        t0, t1 = (float(x.replace(",", ".")) for x in done.stdout.split())
        inside.append((t1 - t0) * 1000)
    if names[0].stat().st_mtime_ns != before:
        raise BenchError("a timed TAB rewrote the names file (it was not served from it)")
    fallback: list[float] = []
    for _ in range(max(3, s.n // 2)):
        names[0].unlink()
        start = time.perf_counter()
        subprocess.run([ROLECALL, "__complete", "names"], capture_output=True, env=env, check=True)
        fallback.append((time.perf_counter() - start) * 1000)
    return TabResult(
        roles, prefix, offered, timed.a, timed.b, Spread.of(inside), Spread.of(fallback)
    )


def measure(
    work: Path, s: ShellSettings, log: IO[str], installed: Path | None = None
) -> ShellResult:
    """Every figure of the section; with `installed` (a regular install's `rolecall`), its
    `rolecall prompt` too."""
    tabs = []
    for roles in SIZES:
        print(f"bench: shell: {roles:,} roles: TAB completion...", file=log, flush=True)
        tabs.append(measure_tab(roles, work, s))
    print("bench: shell: rolecall prompt A/B...", file=log, flush=True)
    expiry = int(time.time()) + 25 * 60
    env: Mapping[str, str] = child_env(
        work / "shell-prompt",
        {
            "ROLECALL_TARGET": "payments-prod/ReadOnly",
            "ROLECALL_EXPIRATION": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry)),
            "ROLECALL_EXPIRATION_EPOCH": str(expiry),
        },
    )
    timed = ab_pairs(
        [str(ROLECALL), "prompt", "--color"], [str(PYTHON), "-c", "pass"], s.warmup, s.n, env
    )
    other = None
    if installed is not None:
        print("bench: shell: rolecall prompt A/B (installed)...", file=log, flush=True)
        pair = ab_pairs(
            [str(installed), "prompt", "--color"],
            [str(installed.parent / "python"), "-c", "pass"],
            s.warmup,
            s.n,
            env,
        )
        other = (pair.a, pair.b)
    return ShellResult(tabs, timed.a, timed.b, other)


def report(r: ShellResult, s: ShellSettings) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """Markdown lines, and (name, figure, met) for the summary."""
    lines = [
        "## Shell integration: TAB completion and `rolecall prompt`",
        "",
        f"Wall milliseconds, median [min–max]; n = {s.n} (A/B pairs after {s.warmup} warm-up "
        "pairs where there is a comparison). TAB = `bash --norc --noprofile -ic` sourcing the "
        "completion script and calling `_rolecall` for `rolecall exec PREFIX` (names file "
        "fresh: no rolecall process); bash alone = the same bash running `:`.",
        "",
        "| roles | prefix | offered | TAB, whole bash | bash alone | `_rolecall` in the shell "
        "| fallback `rolecall __complete names` (names file removed) | target |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    verdicts: list[tuple[str, str, bool]] = []
    for t in r.tabs:
        met = t.tab.median < TAB_TARGET_MS
        lines.append(
            f"| {t.roles:,} | `{t.prefix}` | {t.offered:,} | {t.tab.ms()} | {t.bare_bash.ms()} "
            f"| {t.in_shell.ms()} | {t.fallback.ms()} | < {TAB_TARGET_MS:.0f} ms: "
            f"**{'MET' if met else 'NOT MET'}** |"
        )
        verdicts.append(
            (
                f"TAB completes targets, {t.roles:,} roles, < {TAB_TARGET_MS:.0f} ms",
                f"{num(t.tab.median)} ms",
                met,
            )
        )
    met = r.prompt_ratio <= PROMPT_RATIO
    lines += [
        "",
        "| command | wall | `python -c pass` | ratio of medians | target |",
        "|---|---:|---:|---:|---|",
        f"| `rolecall prompt --color` (in a rolecall shell) | {r.prompt.ms()} | {r.bare.ms()} "
        f"| {r.prompt_ratio:.2f}× | ≤ {PROMPT_RATIO}×: **{'MET' if met else 'NOT MET'}** |",
    ]
    verdicts.append(
        (f"`rolecall prompt` ≤ {PROMPT_RATIO}× `-c pass`", f"{r.prompt_ratio:.2f}×", met)
    )
    if r.installed is not None:
        prompt, bare = r.installed
        ratio = prompt.median / bare.median
        met = ratio <= PROMPT_RATIO
        lines.append(
            f"| `rolecall prompt --color`, regular install | {prompt.ms()} | {bare.ms()} "
            f"| {ratio:.2f}× | ≤ {PROMPT_RATIO}×: **{'MET' if met else 'NOT MET'}** |"
        )
        verdicts.append(
            (f"`rolecall prompt` (installed) ≤ {PROMPT_RATIO}× `-c pass`", f"{ratio:.2f}×", met)
        )
    return lines, verdicts
