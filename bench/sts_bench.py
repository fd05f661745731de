"""STS paths: `rolecall credential-process` / `env` on a cache hit, and `env --no-cache`.

Called by `bench/run.py`. Every rolecall process sees the same isolated environment:
`ROLECALL_HOME` in a temp dir, `ROLECALL_CATALOGUE=accounts.example.toml`, an AWS config with
a static-key profile `identity` (as `tests/aws.write_aws_config` writes it), an empty shared
credentials file, `AWS_ENDPOINT_URL_STS` at a local moto server (`moto_server.py`, its own
process) and no other `AWS_*` variables.

1. Cache hit: one warm-up call fills the session cache; then `credential-process TARGET` and
   `env TARGET` are each timed against `python -c pass` (alternated pairs, `ab_timer.py`).
   The run checks that they were hits (the session file is never rewritten, no STS call is
   journalled, the same access key comes back) and, with `-X importtime`, that the hit path
   imports neither boto3/botocore nor textual/rich.
2. Cache miss: `env TARGET --no-cache` against `assume_min.py` (boto3, same profile, endpoint,
   region eu-west-1 and AssumeRole parameters), alternated; every rolecall run is checked to
   have called STS (one journal entry each).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from common import (
    BENCH,
    PYTHON,
    ROLECALL,
    ROOT,
    AbResult,
    BenchError,
    ab_pairs,
    child_env,
    mib,
    num,
    verdict,
)

TARGET = "payments-dev/Developer"
CATALOGUE = ROOT / "accounts.example.toml"
HIT_TARGET = 2.0
"""A cache hit within 2x `python -c pass`, in every shape (`SHAPES`)."""
SHAPES = {
    "credential-process": ["credential-process", TARGET],
    "env": ["env", TARGET],
    "credential-process --var": [
        "credential-process", TARGET, "--var", "ticket=INC-1234", "--template", "ticket"
    ],
    "env --template": ["env", TARGET, "--template", "incident"],
}  # fmt: skip
"""The cache-hit shapes timed: plain TARGET, a free variable (`--var`, the `ticket` template)
and a dated template (`--template incident`: `oncall-{user}-{date}`)."""
MISS_TARGET = 1.1
"""A cache miss within 1.1x the minimal boto3 script."""
HEAVY = ("boto3", "botocore", "s3transfer", "urllib3", "textual", "rich")
"""Packages a cache hit must not import."""
PROFILE_KEY = "AKIAIOSFODNN7EXAMPLE"
PROFILE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@dataclass(frozen=True)
class StsSettings:
    """How many runs of each kind."""

    hit_n: int
    hit_warmup: int
    miss_n: int
    miss_warmup: int
    importtime_n: int


FULL = StsSettings(hit_n=21, hit_warmup=3, miss_n=15, miss_warmup=2, importtime_n=5)
QUICK = StsSettings(hit_n=5, hit_warmup=1, miss_n=3, miss_warmup=1, importtime_n=1)


@dataclass(frozen=True)
class ImportProfile:
    """What `-X importtime` says about one command (medians over a few runs)."""

    modules: list[str]
    heavy: list[str]
    """Modules of HEAVY packages (must be empty on a hit)."""
    self_us_by_package: dict[str, float]
    self_us_by_module: dict[str, float]
    cumulative_us: dict[str, float]


@dataclass
class StsResult:
    """Everything the STS section reports."""

    moto_url: str
    hits: dict[str, AbResult] = field(default_factory=dict)
    hit_imports: dict[str, ImportProfile] = field(default_factory=dict)
    bare_imports: ImportProfile | None = None
    miss: AbResult | None = None
    miss_imports: ImportProfile | None = None
    min_imports: ImportProfile | None = None
    miss_checks: str = ""
    phases: dict[str, list[float]] = field(default_factory=dict)
    """`hit_phases.py` figures for `credential-process`, one list entry per run."""


# ---------------------------------------------------------------------------------------------
# The moto server and the environment


class MotoServer:
    """`moto_server.py` in its own process, stopped when its stdin is closed."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            [str(PYTHON), str(BENCH / "moto_server.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=dict(env),
        )
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        self.url = stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.stop()
            raise BenchError("the local moto server did not start")

    def stop(self) -> None:
        """Close its stdin; kill it (this process only) if it does not exit."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def aws_env(work: Path, moto_url: str) -> dict[str, str]:
    """`AWS_*` settings for every process that talks to STS (profile `identity`, moto)."""
    config = work / "aws-config"
    config.write_text(
        "[profile identity]\n"
        f"aws_access_key_id = {PROFILE_KEY}\n"
        f"aws_secret_access_key = {PROFILE_SECRET}\n"
        "[default]\n"
        f"aws_access_key_id = {PROFILE_KEY}\n"
        f"aws_secret_access_key = {PROFILE_SECRET}\n"
    )
    credentials = work / "aws-credentials"
    credentials.write_text("")
    return {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_ENDPOINT_URL_STS": moto_url,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def isolated_env(home: Path | None, aws: Mapping[str, str]) -> dict[str, str]:
    """`child_env` without the caller's `AWS_*` variables, plus `aws`."""
    env = {k: v for k, v in child_env(home).items() if not k.startswith("AWS_")}
    env.update(aws)
    return env


# ---------------------------------------------------------------------------------------------
# Checks and profiles


def run(argv: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run once; raise BenchError unless it exits 0."""
    done = subprocess.run(
        list(argv), capture_output=True, text=True, env=dict(env), check=False, timeout=120
    )
    if done.returncode != 0:
        raise BenchError(f"`{' '.join(argv)}` exited {done.returncode}: {done.stderr.strip()}")
    return done


def import_profile(argv: Sequence[str], env: Mapping[str, str], n: int) -> ImportProfile:
    """`python -X importtime ARGV...` n times: module set and median self/cumulative times."""
    self_us: dict[str, list[float]] = defaultdict(list)
    cumulative: dict[str, list[float]] = defaultdict(list)
    modules: list[str] = []
    for _ in range(n):
        done = run([str(PYTHON), "-X", "importtime", *argv], env)
        modules = []
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            _, own, total, name = (part.strip() for part in line.replace(":", "|", 1).split("|"))
            if not own.isdigit():
                continue  # the header line
            modules.append(name)
            self_us[name].append(float(own))
            cumulative[name].append(float(total))
    by_module = {m: statistics.median(v) for m, v in self_us.items()}
    by_package: dict[str, float] = defaultdict(float)
    for module, us in by_module.items():
        by_package[module.split(".")[0]] += us
    heavy = [m for m in modules if m.split(".")[0] in HEAVY]
    return ImportProfile(
        modules=modules,
        heavy=heavy,
        self_us_by_package=dict(by_package),
        self_us_by_module=by_module,
        cumulative_us={m: statistics.median(v) for m, v in cumulative.items()},
    )


def session_files(home: Path) -> dict[Path, tuple[int, int, int]]:
    """Every cached session file under `home`, with (inode, size, mtime)."""
    found = {}
    for path in sorted((home / "cache" / "sessions").glob("*.json")):
        info = path.stat()
        found[path] = (info.st_ino, info.st_size, info.st_mtime_ns)
    return found


def journal_lines(home: Path) -> int:
    """Entries in the journal."""
    path = home / "state" / "journal.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


# ---------------------------------------------------------------------------------------------
# The measurements


def measure(
    work: Path,
    aws: Mapping[str, str],
    s: StsSettings,
    log: IO[str],
    installed: Path | None = None,
) -> StsResult:
    """Cache hit and cache miss figures; with `installed`, the hits of that install too."""
    result = StsResult(moto_url=aws["AWS_ENDPOINT_URL_STS"])
    home = work / "sts-home"
    env = isolated_env(home, aws)
    env["ROLECALL_CATALOGUE"] = str(CATALOGUE)
    rolecall = str(ROLECALL)
    bare = [str(PYTHON), "-c", "pass"]

    # 1. Cache hit, every shape, on the editable venv and the regular install. The first call
    # of a shape fills the session cache and the memo; the second must repeat it exactly.
    print("bench: STS cache hit...", file=log, flush=True)
    installs = {"": ROLECALL, **({"installed": installed} if installed else {})}
    commands: dict[str, list[str]] = {}
    for label, script in installs.items():
        for shape, args in SHAPES.items():
            commands[f"{shape} [{label}]" if label else shape] = [str(script), *args]
    warm = {name: run(command, env).stdout for name, command in commands.items()}
    sessions = session_files(home)
    journalled = journal_lines(home)
    for name, command in commands.items():
        if run(command, env).stdout != warm[name]:
            raise BenchError(f"`{name}` did not repeat the cached answer")
        result.hit_imports[name] = import_profile(command, env, s.importtime_n)
        result.hits[name] = ab_pairs(command, bare, s.hit_warmup, s.hit_n, env)
    result.bare_imports = import_profile(["-c", "pass"], env, s.importtime_n)
    for _ in range(s.importtime_n):
        figures = json.loads(
            run(
                [str(PYTHON), str(BENCH / "hit_phases.py"), "credential-process", TARGET], env
            ).stdout
        )
        for key, value in figures.items():
            result.phases.setdefault(key, []).append(float(value))
    if session_files(home) != sessions:
        raise BenchError("a timed cache-hit run rewrote the session cache (a miss)")
    if journal_lines(home) != journalled:
        raise BenchError("a timed cache-hit run called STS (the journal grew)")
    sessions = {p: v for p, v in sessions.items() if _plain(p)}

    # 2. Cache miss.
    print("bench: STS cache miss...", file=log, flush=True)
    cached = json.loads(next(iter(sessions)).read_text())
    reference = [
        str(PYTHON),
        str(BENCH / "assume_min.py"),
        cached["role_arn"],
        cached["session_name"],
        str(cached["duration"]),
    ]
    if cached.get("source_identity"):
        reference.append(cached["source_identity"])
    miss = [rolecall, "env", TARGET, "--no-cache"]
    for command in (miss, reference):
        if "AWS_SESSION_TOKEN=" not in run(command, env).stdout:
            raise BenchError(f"`{' '.join(command)}` printed no AWS_SESSION_TOKEN")
    before = journal_lines(home)
    started = time.perf_counter()
    result.miss = ab_pairs(miss, reference, s.miss_warmup, s.miss_n, env)
    elapsed = time.perf_counter() - started
    calls = journal_lines(home) - before
    if calls != s.miss_warmup + s.miss_n:
        raise BenchError(
            f"{s.miss_warmup + s.miss_n} `--no-cache` runs journalled {calls} STS calls"
        )
    result.miss_checks = (
        f"every timed `--no-cache` run called STS ({calls} journalled AssumeRole calls in "
        f"{elapsed:.0f} s, warm-up included)"
    )
    result.miss_imports = import_profile(miss, env, s.importtime_n)
    result.min_imports = import_profile(reference[1:], env, s.importtime_n)
    return result


# ---------------------------------------------------------------------------------------------
# Report


def _plain(path: Path) -> bool:
    """Whether a cached session is the plain `TARGET` one (its name has no ticket or date)."""
    name = str(json.loads(path.read_text())["session_name"])
    return not name.startswith("oncall-") and "INC-" not in name


def _cpu(ab: AbResult) -> str:
    a, b = statistics.median(ab.a_cpu_ms), statistics.median(ab.b_cpu_ms)
    return f"{num(a)} vs {num(b)}: {ab.cpu_ratio:.2f}×"


def _top(values: Mapping[str, float], k: int, skip: Sequence[str] = ()) -> str:
    ranked = sorted(((v, m) for m, v in values.items() if m not in skip), reverse=True)[:k]
    return ", ".join(f"`{m}` {v / 1000:.1f}" for v, m in ranked)


ROLECALL_MODULES = (
    "rolecall.cli",
    "rolecall.core.sts.assumer",
    "rolecall.core.catalogue.store",
    "rolecall.core.sts.session_cache",
)


def _pick(values: Mapping[str, float], keys: Sequence[str]) -> dict[str, float]:
    return {k: values[k] for k in keys if k in values}


def report(r: StsResult, s: StsSettings) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """Markdown lines, and (name, figure, met) for the summary."""
    verdicts: list[tuple[str, str, bool]] = []
    lines = [
        "## STS paths (whole process, local moto STS)",
        "",
        f"`{TARGET}` from `accounts.example.toml`, `ROLECALL_HOME` in a temp dir, AWS config "
        f"with a static-key profile `identity`, `AWS_ENDPOINT_URL_STS` = local moto server "
        f"(`{r.moto_url}`, own process). Wall milliseconds, median [min–max], A/B alternated "
        "in the same run (`ab_timer.py`); stdout to /dev/null.",
        "",
        "### 1. Cache hit (after one warm-up call that fills the cache)",
        "",
        f"n = {s.hit_n} pairs after {s.hit_warmup} warm-up pairs.",
        "",
        "| command | wall | `python -c pass` | ratio of medians | paired ratio "
        "| CPU time, ratio ¹ | peak RSS | boto3/botocore/textual/rich imported "
        "| modules imported | target | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|",
    ]
    bare_modules = len(r.bare_imports.modules) if r.bare_imports else 0
    for name, ab in r.hits.items():
        imports = r.hit_imports[name]
        heavy = ", ".join(sorted({m.split(".")[0] for m in imports.heavy})) or "none"
        met = ab.ratio <= HIT_TARGET and not imports.heavy
        verdicts.append(
            (
                f"cache hit `rolecall {name}` ≤ {HIT_TARGET:.0f}× `-c pass`",
                f"{ab.ratio:.2f}× (CPU {ab.cpu_ratio:.2f}×)",
                met,
            )
        )
        shape, _, install = name.partition(" [")
        shown = " ".join(SHAPES[shape]) + (f" ({install[:-1]})" if install else "")
        lines.append(
            f"| `rolecall {shown}` | {ab.a.ms()} | {ab.b.ms()} | {ab.ratio:.2f}× "
            f"| {ab.pair_ratio.ratio()} | {_cpu(ab)} | {mib(statistics.median(ab.a_rss_kib))} "
            f"| {heavy} "
            f"| {len(imports.modules)} ({bare_modules} for `-c pass`) "
            f"| ≤ {HIT_TARGET:.0f}× | {verdict(met)} |"
        )
    lines += [
        "",
        "Checked in this run: every timed run was a hit (the session file was never rewritten, "
        "no STS call was journalled, the cached access key came back), and `-X importtime` "
        "shows no module of boto3, botocore, s3transfer, urllib3, textual or rich on the hit "
        "path (column above).",
        "",
        "¹ User + system CPU time from `wait4`, A vs B and the ratio of their medians: the "
        "host's load inflates wall times but hardly CPU times. The verdict uses wall times.",
    ]
    cp = r.hit_imports.get("credential-process")
    if cp is not None and r.bare_imports is not None:
        extra = {m: v for m, v in cp.self_us_by_module.items() if m not in r.bare_imports.modules}
        by_package: dict[str, float] = defaultdict(float)
        for m, v in extra.items():
            by_package[m.split(".")[0]] += v
        lines += [
            "",
            f"Where a hit's import time goes (`-X importtime`, median of {s.importtime_n}, ms; "
            "`-X importtime` itself inflates these): modules that `credential-process` imports "
            f"beyond `python -c pass`: {len(extra)}, self time {sum(extra.values()) / 1000:.1f} ms"
            f"; by package: {_top(by_package, 6)}; largest modules: {_top(extra, 8)}; "
            f"cumulative: {_top(_pick(cp.cumulative_us, ROLECALL_MODULES), 4)}.",
        ]
    if r.phases and "credential-process" in r.hits:
        ph = {k: statistics.median(v) for k, v in r.phases.items()}
        hit = r.hits["credential-process"]
        parts = [
            ("`import rolecall.cli`", "import_cli"),
            ("`import rolecall.core.sts.assumer` (deferred, in `Context.session`)", "import_sts"),
            ("`build_parser` (argparse, one command)", "build_parser"),
            ("`Context.catalogue` (catalogue from its parsed cache)", "catalogue"),
            ("`Assumer.plan`", "plan"),
            ("`Assumer.cached` (read the session file)", "cache_read"),
            ("rest of `Context.session`", "session_other"),
            ("rest of `main` (parse args, handler, JSON out)", "main_other"),
        ]
        lines += [
            "",
            "Where a hit's time goes (`hit_phases.py`: `perf_counter` and `thread_time` around "
            f"the parts of `cli.main` in a fresh process, medians of {s.importtime_n} runs; "
            "stdlib imports are counted where rolecall triggers them):",
            "",
            "| part | wall ms | CPU ms |",
            "|---|---:|---:|",
            *(
                f"| {name} | {num(ph[key + '_ms'])} | {num(ph[key + '_cpu_ms'])} |"
                for name, key in parts
            ),
            f"| **in the script, total** | **{num(ph['in_script_ms'])}** "
            f"| **{num(ph['in_script_cpu_ms'])}** |",
            f"| interpreter start-up before the script's first line | – "
            f"| {num(ph['before_script_cpu_ms'])} |",
            f"| whole process (the timed runs above; includes teardown) | {num(hit.a.median)} "
            f"| {num(statistics.median(hit.a_cpu_ms))} |",
            f"| `python -c pass`, whole process | {num(hit.b.median)} "
            f"| {num(statistics.median(hit.b_cpu_ms))} |",
            f"| budget at {HIT_TARGET:.0f}× `-c pass` | {num(HIT_TARGET * hit.b.median)} "
            f"| {num(HIT_TARGET * statistics.median(hit.b_cpu_ms))} |",
            "",
            f"Modules: {ph['modules_before']:.0f} loaded when the script starts, "
            f"{ph['modules_after']:.0f} at the end.",
        ]
    lines += [
        "",
        "### 2. Cache miss: `rolecall env --no-cache` vs a minimal boto3 script",
        "",
    ]
    if r.miss is not None:
        ab = r.miss
        met = ab.ratio <= MISS_TARGET
        verdicts.append(
            (
                f"cache miss `rolecall env --no-cache` ≤ {MISS_TARGET}× boto3 script",
                f"{ab.ratio:.2f}× (CPU {ab.cpu_ratio:.2f}×)",
                met,
            )
        )
        lines += [
            f"n = {s.miss_n} pairs after {s.miss_warmup} warm-up pairs. The reference is "
            "`bench/assume_min.py`: `boto3.Session(profile_name='identity').client('sts', "
            "region_name='eu-west-1').assume_role(...)` with the RoleArn, RoleSessionName, "
            "DurationSeconds and SourceIdentity rolecall sent, then three `export` lines.",
            "",
            "| command | wall | boto3 script | ratio of medians | paired ratio "
            "| CPU time, ratio ¹ | peak RSS | boto3 script RSS | target | verdict |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
            f"| `rolecall env {TARGET} --no-cache` | {ab.a.ms()} | {ab.b.ms()} "
            f"| {ab.ratio:.2f}× | {ab.pair_ratio.ratio()} | {_cpu(ab)} "
            f"| {mib(statistics.median(ab.a_rss_kib))} "
            f"| {mib(statistics.median(ab.b_rss_kib))} | ≤ {MISS_TARGET}× | {verdict(met)} |",
            "",
            f"Checked: {r.miss_checks}.",
        ]
    if r.miss_imports is not None and r.min_imports is not None:
        mine = r.miss_imports
        theirs = r.min_imports
        extra = {m: v for m, v in mine.self_us_by_module.items() if m not in theirs.modules}
        missing = [m for m in theirs.modules if m not in mine.modules]
        lines += [
            "",
            f"Imports (`-X importtime`, median of {s.importtime_n}): rolecall imports "
            f"{len(mine.modules)} modules, the script {len(theirs.modules)}; "
            f"{len(extra)} only in rolecall, self time {sum(extra.values()) / 1000:.1f} ms "
            f"(largest: {_top(extra, 8)}); {len(missing)} only in the script. "
            f"Sum of self times: rolecall {sum(mine.self_us_by_module.values()) / 1000:.0f} ms, "
            f"script {sum(theirs.self_us_by_module.values()) / 1000:.0f} ms.",
        ]
    return lines, verdicts
