"""Where a cache-hit `rolecall` command spends its time, in-process; run by `sts_bench.py`.

    python bench/hit_phases.py credential-process|env TARGET

Runs `rolecall.cli.main([COMMAND, TARGET])` (stdout to /dev/null) with `perf_counter` around
its parts, by wrapping them in this process only: `import rolecall.cli`, `build_parser`,
`import rolecall.core.sts.assumer` (which `Context.session` would otherwise import itself),
`Context.catalogue` (the catalogue load), `Assumer.plan`, `Assumer.cached` (the session-cache
read), the rest of `Context.session` (its other imports, the assumer and MFA ledger), and the
rest of `main` (argument parsing, the handler's own imports and output). Prints one JSON
object: wall and CPU (`time.thread_time`) milliseconds per part, the CPU time the interpreter
spent before the script's first line, and the number of modules imported.
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

CPU_AT_START = time.process_time()
SPENT: dict[str, float] = {}
"""Milliseconds per part: `NAME_ms` (wall) and `NAME_cpu_ms` (this thread's CPU time)."""


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, adding its wall and CPU time to SPENT."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            add(name, start, cpu)

    return wrapper


def add(name: str, start: float, cpu: float) -> None:
    """Add the wall and CPU time since (`start`, `cpu`) to part `name`."""
    SPENT[f"{name}_ms"] = SPENT.get(f"{name}_ms", 0.0) + (time.perf_counter() - start) * 1e3
    SPENT[f"{name}_cpu_ms"] = SPENT.get(f"{name}_cpu_ms", 0.0) + (time.thread_time() - cpu) * 1e3


def main(argv: list[str]) -> int:
    """Time one `rolecall COMMAND TARGET` in this process."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    modules_before = len(sys.modules)
    start, cpu = time.perf_counter(), time.thread_time()
    from rolecall import cli

    add("import_cli", start, cpu)
    import json

    cli.build_parser = timed("build_parser", cli.build_parser)
    cli.context.Context.catalogue = timed("catalogue", cli.context.Context.catalogue)  # type: ignore[method-assign]
    cli.context.Context.session = timed("session", cli.context.Context.session)  # type: ignore[method-assign]
    # `session` imports rolecall.core.sts.assumer itself; it is imported here (and timed on its own)
    # so that its `Assumer` can be wrapped.
    start, cpu = time.perf_counter(), time.thread_time()
    from rolecall.core.sts import assumer as sts

    add("import_sts", start, cpu)
    sts.Assumer.plan = timed("plan", sts.Assumer.plan)  # type: ignore[method-assign]
    sts.Assumer.cached = timed("cached", sts.Assumer.cached)  # type: ignore[method-assign]
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        start, cpu = time.perf_counter(), time.thread_time()
        code = cli.main(argv)
        sys.stdout.flush()
        add("main", start, cpu)
    finally:
        os.dup2(saved, 1)
    figures: dict[str, float] = {"exit": code}
    for unit in ("ms", "cpu_ms"):

        def part(name: str, unit: str = unit) -> float:
            return SPENT.get(f"{name}_{unit}", 0.0)

        inside = part("catalogue") + part("plan") + part("cached")
        figures.update(
            {
                f"import_cli_{unit}": part("import_cli"),
                f"import_sts_{unit}": part("import_sts"),
                f"build_parser_{unit}": part("build_parser"),
                f"catalogue_{unit}": part("catalogue"),
                f"plan_{unit}": part("plan"),
                f"cache_read_{unit}": part("cached"),
                f"session_other_{unit}": part("session") - inside,
                f"main_other_{unit}": part("main") - part("session") - part("build_parser"),
            }
        )
    figures["in_script_ms"] = (time.perf_counter() - STARTED) * 1e3
    figures["in_script_cpu_ms"] = (time.process_time() - CPU_AT_START) * 1e3
    figures["before_script_cpu_ms"] = CPU_AT_START * 1e3
    figures["modules_before"] = modules_before
    figures["modules_after"] = len(sys.modules)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
