"""The catalogue section of the benchmarks: `store.load` cold and warm, and `rolecall list`.

Started by `bench/run.py` (`--sections catalogue`); see its docstring for the method. A warm
`rolecall list` is answered by `rolecall.core.catalogue.listing` (the `.list` cache file), so
every timed run is checked to be a hit: the cache files are never rewritten.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gen_catalogue
from common import BENCH, PYTHON, ROLECALL, BenchError, Spread, ab_pairs, child_env

SIZES = (1_000, 10_000, 50_000)
QUERY = gen_catalogue.QUERY
MANY_ROWS = {"payments ap-southeast-2": 250, "search": 2_499}
"""Queries that print many rows at 50,000 roles (and how many): `list` must cost no more per
printed row than it can help (one read per run of neighbouring rows, one join per row)."""
TARGET_ROLES = 50_000
TARGET_RATIO = 3.0
"""Warm `rolecall list QUERY` over 50,000 roles within 3x the bare interpreter start, for the
usual query and for ones printing 250 and 2,500 rows, editable and installed."""


@dataclass(frozen=True)
class Settings:
    """How many runs of each kind."""

    cold_n: dict[int, int]
    warm_n: int
    ab_n: int
    ab_warmup: int
    quick: bool


FULL = Settings(
    cold_n={1_000: 11, 10_000: 9, 50_000: 7}, warm_n=15, ab_n=31, ab_warmup=3, quick=False
)
QUICK = Settings(cold_n={}, warm_n=3, ab_n=5, ab_warmup=1, quick=True)
QUICK_COLD_N = 2


@dataclass(frozen=True)
class LoadResult:
    """Catalogue load figures for one size."""

    roles: int
    accounts: int
    file_bytes: int
    cache_bytes: int
    check: str
    lifted_cap: bool
    cold: Spread
    warm: Spread
    import_ms: Spread
    search_ms: Spread


@dataclass(frozen=True)
class ListResult:
    """Whole-process `rolecall list QUERY` against `python -c pass` for one size."""

    roles: int
    rows: int
    listing: Spread
    bare: Spread
    pair_ratio: Spread
    list_rss_kib: Spread
    bare_rss_kib: Spread
    timer_hwm_kib: int
    query: str = QUERY
    install: str = "editable"
    """`editable` (`.venv`) or `installed` (`pip install .` in a temporary venv)."""

    @property
    def ratio(self) -> float:
        """Median list time over median bare-interpreter time."""
        return self.listing.median / self.bare.median


# ---------------------------------------------------------------------------------------------
# Running things


def probe(catalogue: Path, cache_dir: Path) -> dict[str, float]:
    """Run `load_probe.py` in a fresh interpreter; return its JSON figures."""
    done = subprocess.run(
        [PYTHON, BENCH / "load_probe.py", catalogue, cache_dir, QUERY, "--lift-cap"],
        capture_output=True,
        text=True,
        env=child_env(),
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"load_probe failed ({done.returncode}): {done.stderr.strip()}")
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def cache_file(cache_dir: Path) -> Path:
    """The one parsed-catalogue cache file under `cache_dir` (it must exist)."""
    files = sorted((cache_dir / "catalogues").glob("*.marshal"))
    if len(files) != 1:
        raise BenchError(f"expected one cache file under {cache_dir}, found {len(files)}")
    return files[0]


def fingerprint(path: Path) -> tuple[int, int, int]:
    """What changes if the cache file is rewritten: inode, size and mtime."""
    info = path.stat()
    return info.st_ino, info.st_size, info.st_mtime_ns


def check_catalogue(catalogue: Path) -> str:
    """`rolecall check FILE`, summarised in a few words."""
    done = subprocess.run(
        [str(ROLECALL), "check", str(catalogue)],
        capture_output=True,
        text=True,
        env=child_env(),
        check=False,
    )
    if done.returncode == 0:
        return "OK"
    first = (done.stdout.strip().splitlines() or ["?"])[0]
    if "the limit is 1 MiB" in first:
        return "refused: over the 1 MiB cap"
    return f"FAILED: {first.split(': ', 1)[-1][:60]}"


# ---------------------------------------------------------------------------------------------
# The measurements


def measure_load(roles: int, catalogue: Path, home: Path, work: Path, s: Settings) -> LoadResult:
    """Cold and warm `store.load`, interleaved, each in a fresh process."""
    check = check_catalogue(catalogue)
    seeded = probe(catalogue, home / "cache")  # seeds the cache for warm loads and for list
    cached = cache_file(home / "cache")
    before = fingerprint(cached)
    cold_n = s.cold_n.get(roles, QUICK_COLD_N)
    cold: list[float] = []
    warm: list[float] = []
    imports: list[float] = []
    searches: list[float] = []
    for i in range(max(cold_n, s.warm_n)):
        if i < cold_n:
            empty = Path(tempfile.mkdtemp(prefix="cold-", dir=work))
            figures = probe(catalogue, empty)
            cache_file(empty)  # the cold load wrote its cache
            shutil.rmtree(empty)
            cold.append(figures["load_ms"])
        if i < s.warm_n:
            figures = probe(catalogue, home / "cache")
            if fingerprint(cached) != before:
                raise BenchError(f"warm load at {roles:,} roles rewrote the cache (a miss)")
            warm.append(figures["load_ms"])
            imports.append(figures["import_ms"])
            searches.append(figures["search_ms"])
    return LoadResult(
        roles=int(seeded["roles"]),
        accounts=int(seeded["accounts"]),
        file_bytes=int(seeded["file_bytes"]),
        cache_bytes=cached.stat().st_size,
        check=check,
        lifted_cap=bool(seeded["lifted_cap"]),
        cold=Spread.of(cold),
        warm=Spread.of(warm),
        import_ms=Spread.of(imports),
        search_ms=Spread.of(searches),
    )


def measure_list(
    roles: int,
    home: Path,
    s: Settings,
    query: str = QUERY,
    rolecall: Path = ROLECALL,
    install: str = "editable",
) -> ListResult:
    """`rolecall list QUERY` (warm cache) against `python -c pass`, A/B alternated."""
    cached = cache_file(home / "cache")
    before = fingerprint(cached)
    command = [str(rolecall), "list", *query.split()]
    shown = subprocess.run(
        command, capture_output=True, text=True, env=child_env(home), check=False
    )
    rows = len(shown.stdout.splitlines()) - 1
    if shown.returncode != 0 or rows < 1:
        raise BenchError(f"`rolecall list {query}` failed: {shown.stderr.strip()}")
    bare = [str(PYTHON), "-c", "pass"]
    timed = ab_pairs(command, bare, s.ab_warmup, s.ab_n, child_env(home))
    if fingerprint(cached) != before:
        raise BenchError(f"`rolecall list` at {roles:,} roles rewrote the cache (a miss)")
    return ListResult(
        roles=roles,
        rows=rows,
        listing=timed.a,
        bare=timed.b,
        pair_ratio=timed.pair_ratio,
        list_rss_kib=Spread.of(timed.a_rss_kib),
        bare_rss_kib=Spread.of(timed.b_rss_kib),
        timer_hwm_kib=timed.timer_hwm_kib,
        query=query,
        install=install,
    )
