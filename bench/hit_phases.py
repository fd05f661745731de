"""Where a cache-hit `rolecall` command spends its time, in-process; run by `sts_bench.py`.

    python bench/hit_phases.py credential-process|env TARGET

Runs `rolecall.cli.main([COMMAND, TARGET])` (stdout to /dev/null) with `perf_counter` around
its parts, by wrapping them in this process only: `import rolecall.cli`, `build_parser`,
`import rolecall.core.sts` (which `Context.session` would otherwise import itself),
`Context.catalogue` (the catalogue load), `Assumer.plan`, `Assumer.cached` (the session-cache
read), the rest of `Context.session` (its other imports, the assumer and MFA ledger), and the
rest of `main` (argument parsing, the handler's own imports and output). Prints one JSON
object of milliseconds plus the number of modules imported.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import os  # noqa: E402  (os and sys are loaded at interpreter start: free)
import sys  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:  # nothing else is imported before `rolecall.cli`, whose imports are measured
    from collections.abc import Callable
    from typing import Any

SPENT: dict[str, float] = {}


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, adding its duration to SPENT[name]."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[name] = SPENT.get(name, 0.0) + (time.perf_counter() - start) * 1e3

    return wrapper


def main(argv: list[str]) -> int:
    """Time one `rolecall COMMAND TARGET` in this process."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    modules_before = len(sys.modules)
    start = time.perf_counter()
    from rolecall import cli

    imported = time.perf_counter()
    import json

    cli.build_parser = timed("build_parser", cli.build_parser)
    cli.Context.catalogue = timed("catalogue", cli.Context.catalogue)  # type: ignore[method-assign]
    cli.Context.session = timed("session", cli.Context.session)  # type: ignore[method-assign]
    # `session` imports rolecall.core.sts itself; it is imported here (and timed on its own)
    # so that its `Assumer` can be wrapped.
    sts_start = time.perf_counter()
    from rolecall.core import sts

    sts_ms = (time.perf_counter() - sts_start) * 1e3
    sts.Assumer.plan = timed("plan", sts.Assumer.plan)  # type: ignore[method-assign]
    sts.Assumer.cached = timed("cached", sts.Assumer.cached)  # type: ignore[method-assign]
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        before_main = time.perf_counter()
        code = cli.main(argv)
        sys.stdout.flush()
        after_main = time.perf_counter()
    finally:
        os.dup2(saved, 1)
    main_ms = (after_main - before_main) * 1e3
    session = SPENT.get("session", 0.0)
    inside = SPENT.get("catalogue", 0.0) + SPENT.get("plan", 0.0) + SPENT.get("cached", 0.0)
    figures = {
        "exit": code,
        "script_imports_ms": (start - STARTED) * 1e3,
        "import_cli_ms": (imported - start) * 1e3,
        "import_sts_ms": sts_ms,
        "build_parser_ms": SPENT.get("build_parser", 0.0),
        "catalogue_ms": SPENT.get("catalogue", 0.0),
        "plan_ms": SPENT.get("plan", 0.0),
        "cache_read_ms": SPENT.get("cached", 0.0),
        "session_other_ms": session - inside,
        "main_other_ms": main_ms - session - SPENT.get("build_parser", 0.0),
        "main_ms": main_ms,
        "in_script_ms": (after_main - STARTED) * 1e3,
        "modules_before": modules_before,
        "modules_after": len(sys.modules),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
