"""One catalogue load, timed in-process; run in a fresh interpreter by `bench/run.py`.

    python bench/load_probe.py CATALOGUE CACHE_DIR QUERY [--lift-cap]

Prints one JSON object: milliseconds for `import rolecall.core.catalogue.store` (which
imports the model), for `store.load(CATALOGUE, CACHE_DIR)` and for `search(QUERY)` on the
result, the role and account and hit counts, and whether the size cap had to be lifted.

`--lift-cap` raises `model.MAX_FILE_BYTES` in this process only, and only when the file is
larger than the cap: the loader refuses catalogues above `MAX_FILE_BYTES` (32 MiB), which a
very large generated catalogue can exceed. The cache that `load` writes here is the same one
`rolecall` reads, and a cache hit does not look at the cap, so the seeded cache is what a warm
`rolecall list` then uses.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    """Time one load; print JSON."""
    if len(argv) not in (3, 4) or (len(argv) == 4 and argv[3] != "--lift-cap"):
        print(__doc__, file=sys.stderr)
        return 2
    path, cache_dir, query = Path(argv[0]), Path(argv[1]), argv[2]
    t0 = time.perf_counter()
    from rolecall.core.catalogue import model, store

    t1 = time.perf_counter()
    lifted = False
    size = path.stat().st_size
    if len(argv) == 4 and size > model.MAX_FILE_BYTES:
        # Before the loader is first imported: it binds the cap when it is.
        model.MAX_FILE_BYTES = size
        lifted = True
    t2 = time.perf_counter()
    loaded = store.load(path, cache_dir=cache_dir)
    t3 = time.perf_counter()
    hits = loaded.search(query)
    t4 = time.perf_counter()
    result = {
        "import_ms": (t1 - t0) * 1e3,
        "load_ms": (t3 - t2) * 1e3,
        "search_ms": (t4 - t3) * 1e3,
        "roles": len(loaded),
        "accounts": len(loaded.accounts),
        "hits": len(hits),
        "lifted_cap": lifted,
        "file_bytes": size,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
