"""One TUI process, timed from inside; started on a pseudo-terminal by `bench/pty_timer.py`.

    python bench/tui_probe.py minimal|rolecall|entry paint|keys [ROUNDS] [--profile FILE]
                              [-- ARG...]

* `minimal`: a Textual `App` whose only widget is an `Input` (the reference).
* `rolecall`: what `rolecall` with no command does (`rolecall.ui.launch.prepared_app`, with
  milestones between its steps): the catalogue named by the environment (`ROLECALL_HOME`,
  warm cache) in a `Workspace`, the app from `make_app`.
* `entry` (`paint` only): the `rolecall` executable itself, `rolecall.entry.run()` with no
  arguments, or with the ARGs after `--` (e.g. `--catalogue PATH`; argv handling included);
  the paint hook is installed on `App`, and the figures
  are written at the first content paint (`entry.run` leaves with `os._exit`). No milestones
  between the script start and the first paint.

A *paint* is one call of `App._display` with a non-None `CompositorUpdate` (the override below
calls Textual's own first, so a paint includes ANSI encoding and the hand-off to the writer
thread). The *first content paint* is the first paint after mount; for rolecall it must also
show the catalogue list with its rows (`CatalogueList.rows` set, `virtual_size` laid out and
the update covering the list).

* `paint`: `exit()` at the first content paint.
* `keys` (rolecall only): after the first content paint (and a short pause), type the search
  sequence ROUNDS times from a worker on the app's event loop: set the search `Input`'s value
  to `p`, `pr`, ..., `prod-payments`, then `''` (restore every row). Each step is timed from
  just before the value is set until the end of the first paint that covers the list after
  the app has applied that query (`RolecallApp.query_text`), i.e. the painted result.

Figures go to the JSON file named by `BENCH_OUT`: milestones in ms since `BENCH_T0` (the
parent's `time.time()` just before the fork) with the VmRSS at each, whether boto3/botocore
were imported at first paint, the process CPU time and the cyclic GC's pauses up to it, and the
key steps. Each step is split into key → `_filter` start, `_filter` itself (search plus
`CatalogueList.set_rows`) and `_filter` end → painted result, with the main thread's CPU time,
the frames painted, the time in `Screen._on_timer_update` (wrapped in `keys` mode only) and
the GC time. With `--profile FILE`, cProfile (main thread) runs from the start of the imports
to the first content paint (`paint`) or over the typing rounds (`keys`), and its stats go to
FILE (for `pstats`).
"""

from __future__ import annotations

import time

STARTED = time.time()

import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

SEQUENCE = (*("prod-payments"[:i] for i in range(1, len("prod-payments") + 1)), "")
"""One round of typing: every prefix of `prod-payments`, then the empty query."""
SETTLE_S = 0.5
"""Pause between the first content paint and the first key (a person reads the screen)."""
GAP_S = 0.1
"""Pause between a painted result and the next key (a fast typist)."""
STEP_TIMEOUT_S = 10.0


class Probe:
    """Watches paints; ends the run or drives the typing sequence."""

    def __init__(self, action: str, rounds: int, profiler: Any = None) -> None:
        self.action = action
        self.rounds = rounds
        self.profiler = profiler
        self.app: Any = None
        self.ready: Callable[[Any], bool] = lambda update: True
        self.mounted = False
        self.figures: dict[str, Any] = {"marks": {"start": STARTED}, "paints_before_first": 0}
        self.first_paint: float | None = None
        self.expect: str | None = None
        self.future: asyncio.Future[float] | None = None
        self.steps: list[dict[str, Any]] = []
        self.filters: list[tuple[float, float]] = []
        """(start, end) perf_counter of every `RolecallApp._filter` call."""
        self.gc_ms = [0.0, 0.0, 0.0]
        """Milliseconds spent in the cyclic GC, per generation (main thread or not)."""
        self.gc_count = [0, 0, 0]
        self.gc_max_ms = [0.0, 0.0, 0.0]
        self._gc_started = 0.0
        self.updates_ms = 0.0
        """Milliseconds in `Screen._on_timer_update` (layout, compositor, ANSI, write)."""
        self.updates_cpu_ms = 0.0
        """The same, as main-thread CPU time (`time.thread_time`)."""
        self.step_paints = 0
        self.write_at_first_paint = False
        """Write the figures at the first content paint (the process may not return)."""

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        """A `gc.callbacks` hook: time every collection."""
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        generation = info["generation"]
        took = (time.perf_counter() - self._gc_started) * 1e3
        self.gc_ms[generation] += took
        self.gc_count[generation] += 1
        self.gc_max_ms[generation] = max(self.gc_max_ms[generation], took)

    def gc_figures(self) -> dict[str, list[float]]:
        """GC totals so far: count, total ms and longest pause per generation."""
        return {
            "count": list(self.gc_count),
            "total_ms": list(self.gc_ms),
            "max_ms": list(self.gc_max_ms),
        }

    def mark(self, name: str) -> None:
        """Record a milestone (wall clock; converted to ms since T0 at the end) and VmRSS."""
        self.figures["marks"][name] = time.time()
        self.figures.setdefault("cpu_ms", {})[name] = time.process_time() * 1e3
        self.figures.setdefault("rss_kib", {})[name] = rss_kib()

    def displayed(self, update: object) -> None:
        """Called after every `App._display`."""
        from textual._compositor import CompositorUpdate

        if not isinstance(update, CompositorUpdate) or not self.mounted:
            return
        if self.first_paint is None:
            if not self.ready(update):
                self.figures["paints_before_first"] += 1
                return
            self.mark("first_paint")
            self.first_paint = self.figures["marks"]["first_paint"]
            if self.profiler is not None:
                self.profiler.disable()
            self.figures["boto3_at_first_paint"] = "boto3" in sys.modules
            self.figures["botocore_at_first_paint"] = "botocore" in sys.modules
            self.figures["modules_at_first_paint"] = len(sys.modules)
            self.figures["gc_before_first_paint"] = self.gc_figures()
            self.figures["cpu_at_first_paint_ms"] = time.process_time() * 1e3
            if self.action == "paint":
                if self.write_at_first_paint:
                    write_figures(self)
                self.app.exit()
            else:
                self.app.run_worker(self.type_keys(), name="bench-keys", exclusive=False)
            return
        if self.expect is not None and self.future is not None and not self.future.done():
            self.step_paints += 1
            app = self.app
            if app.query_text == self.expect and touches(update, app.query_one("#catalogue")):
                self.future.set_result(time.perf_counter())

    async def type_keys(self) -> None:
        """Type SEQUENCE `rounds` times; time each step to its painted result."""
        from textual.widgets import Input

        app = self.app
        search = app.query_one("#search", Input)
        listing = app.query_one("#catalogue")
        loop = asyncio.get_running_loop()
        await asyncio.sleep(SETTLE_S)
        if self.profiler is not None:
            self.profiler.enable()
        gc_at_start = self.gc_figures()
        self.gc_max_ms = [0.0, 0.0, 0.0]
        for round_ in range(self.rounds):
            for query in SEQUENCE:
                await asyncio.sleep(GAP_S)
                self.future = loop.create_future()
                self.expect = query
                done_filters = len(self.filters)
                self.step_paints = 0
                gc_before, updates_before = sum(self.gc_ms), self.updates_ms
                updates_cpu_before = self.updates_cpu_ms
                gen2_before = self.gc_count[2]
                cpu_start = time.thread_time()
                start = time.perf_counter()
                search.value = query
                try:
                    end = await asyncio.wait_for(self.future, STEP_TIMEOUT_S)
                except TimeoutError:
                    end = float("nan")
                cpu = (time.thread_time() - cpu_start) * 1e3
                self.expect = None
                filters = self.filters[done_filters:]
                self.steps.append(
                    {
                        "round": round_,
                        "query": query,
                        "rows": len(listing.rows),
                        "key_to_paint_ms": (end - start) * 1e3,
                        "key_to_filter_ms": (filters[0][0] - start) * 1e3 if filters else None,
                        "filter_ms": sum(b - a for a, b in filters) * 1e3,
                        "filter_to_paint_ms": (end - filters[-1][1]) * 1e3 if filters else None,
                        "paints": self.step_paints,
                        "screen_update_ms": self.updates_ms - updates_before,
                        "screen_update_cpu_ms": self.updates_cpu_ms - updates_cpu_before,
                        "main_thread_cpu_ms": cpu,
                        "gc_ms": sum(self.gc_ms) - gc_before,
                        "gen2_collections": self.gc_count[2] - gen2_before,
                        "perf_start": start,
                        "perf_end": end,
                    }
                )
        self.figures["gc_while_typing"] = {
            key: [b - a for a, b in zip(gc_at_start[key], values, strict=True)]
            for key, values in self.gc_figures().items()
            if key != "max_ms"
        }
        self.figures["gc_while_typing"]["max_ms"] = self.gc_max_ms
        self.figures["tracked_objects_after_typing"] = len(gc.get_objects())
        self.mark("typed")
        if self.profiler is not None:
            self.profiler.disable()
        app.exit()

    def timed_filter(self, filter_: Callable[[], None]) -> Callable[[], None]:
        """Wrap `RolecallApp._filter` (search + `CatalogueList.set_rows`) to time it."""

        def wrapper() -> None:
            start = time.perf_counter()
            filter_()
            self.filters.append((start, time.perf_counter()))

        return wrapper

    def timed_update(self, update: Callable[[Any], None]) -> Callable[[Any], None]:
        """Wrap `Screen._on_timer_update` (a frame: layout, compositor, ANSI, write)."""

        def wrapper(screen: Any) -> None:
            start, cpu = time.perf_counter(), time.thread_time()
            update(screen)
            self.updates_ms += (time.perf_counter() - start) * 1e3
            self.updates_cpu_ms += (time.thread_time() - cpu) * 1e3

        return wrapper


def rss_kib() -> int:
    """This process's resident set size now (VmRSS), in KiB; 0 without /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def touches(update: object, widget: Any) -> bool:
    """Whether a compositor update repaints any part of `widget`'s region on screen."""
    from textual._compositor import ChopsUpdate, LayoutUpdate

    region = widget.region
    if region.area == 0:
        return False
    if isinstance(update, LayoutUpdate):
        return bool(update.region.overlaps(region))
    if isinstance(update, ChopsUpdate):
        top, bottom = region.y, region.bottom
        left, right = region.x, region.right
        return any(top <= y < bottom and x1 < right and x2 > left for y, x1, x2 in update.spans)
    return True


def run_minimal(probe: Probe) -> None:
    """An App with one Input."""
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Input(placeholder="search")

        def on_mount(self) -> None:
            probe.mounted = True

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            probe.displayed(renderable)

    probe.mark("imports")
    app = Minimal()
    probe.app = app
    probe.mark("data")
    app.run()


def run_rolecall(probe: Probe) -> None:
    """What `rolecall` (no command) does: `rolecall.ui.launch.prepared_app`, step by step."""
    from rolecall.ui.launch import hold_collector

    hold_collector()  # as `prepared_app` does first
    from types import MethodType

    from textual.app import App

    from rolecall.core.catalogue import store
    from rolecall.core.locations import Locations, catalogue_path
    from rolecall.core.sts.client_config import client_settings
    from rolecall.core.workspace import Workspace
    from rolecall.ui.app import RolecallApp, make_app

    probe.mark("imports")
    env = dict(os.environ)
    locations = Locations.from_env(env)
    catalogue = store.load(catalogue_path(None, env, locations), locations.cache_dir)
    probe.mark("catalogue")
    workspace = Workspace(catalogue, locations, env, client_settings=client_settings(env))
    app = make_app(workspace)
    probe.mark("data")
    probe.app = app
    probe.figures["roles"] = len(catalogue)

    def display(self: RolecallApp, screen: Any, renderable: Any) -> None:
        App._display(self, screen, renderable)
        probe.displayed(renderable)

    probe.ready = lambda update: list_ready(app, update)
    probe.mounted = True  # `ready` itself waits for the list, which exists only after mount
    app._display = MethodType(display, app)  # type: ignore[method-assign]
    app._filter = probe.timed_filter(app._filter)  # type: ignore[method-assign]
    if probe.action == "keys":
        from textual.screen import Screen

        Screen._on_timer_update = probe.timed_update(  # type: ignore[method-assign,assignment]
            Screen._on_timer_update
        )
    app.run()


def list_ready(app: Any, update: object) -> bool:
    """Whether `update` paints the catalogue list with its rows laid out."""
    from textual.css.query import NoMatches

    from rolecall.ui.widgets.catalogue_list import CatalogueList

    try:
        listing = app.query_one("#catalogue", CatalogueList)
    except NoMatches:  # not composed yet
        return False
    return bool(
        listing.rows
        and listing.virtual_size.height == len(listing.rows)
        and touches(update, listing)
    )


def run_entry(probe: Probe, args: list[str]) -> None:
    """`rolecall ARGS...` (no ARGS: the TUI alone), through the executable's own
    `rolecall.entry.run`.

    Nothing is imported ahead of it: the paint hook goes on `App` once
    `rolecall.ui.launch.prepared_app` has built the app (and so loaded Textual, with the
    collector already off, as in the real start), before the app runs.
    """
    from rolecall import entry
    from rolecall.ui import launch

    prepared_app = launch.prepared_app

    def prepared_then_hooked(*given: Any, **named: Any) -> Any:
        app = prepared_app(*given, **named)
        from textual.app import App  # loaded by now

        display = App._display

        def hooked(self: Any, screen: Any, renderable: Any) -> None:
            display(self, screen, renderable)
            if probe.app is None:
                probe.app = self
                probe.figures["roles"] = len(self.workspace.catalogue)
            if self is probe.app:
                probe.displayed(renderable)

        App._display = hooked  # type: ignore[method-assign]
        return app

    probe.ready = lambda update: list_ready(probe.app, update)
    probe.mounted = True  # `ready` itself waits for the list, which exists only after mount
    probe.write_at_first_paint = True
    launch.prepared_app = prepared_then_hooked
    sys.argv = ["rolecall", *args]
    entry.run()


def write_figures(probe: Probe) -> None:
    """The figures, with milestones in ms since `BENCH_T0`, to `BENCH_OUT` (else stderr)."""
    t0 = float(os.environ.get("BENCH_T0") or STARTED)
    figures = dict(probe.figures)
    figures["marks"] = {k: (v - t0) * 1e3 for k, v in figures["marks"].items()}
    figures["steps"] = probe.steps
    figures["first_paint_ms"] = figures["marks"].get("first_paint")
    out = os.environ.get("BENCH_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as f:
            json.dump(figures, f)
    else:
        print(json.dumps(figures), file=sys.stderr)


def main(argv: list[str]) -> int:
    """`tui_probe.py KIND ACTION [ROUNDS] [--profile FILE] [-- ARG...]`."""
    args: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, args = argv[:at], argv[at + 1 :]
    profile_to: str | None = None
    if "--profile" in argv:
        at = argv.index("--profile")
        profile_to = argv[at + 1]
        argv = argv[:at] + argv[at + 2 :]
    if len(argv) not in (2, 3) or argv[0] not in ("minimal", "rolecall", "entry"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, action = argv[0], argv[1]
    if action not in ("paint", "keys") or (action == "keys" and kind != "rolecall"):
        print(__doc__, file=sys.stderr)
        return 2
    rounds = int(argv[2]) if len(argv) == 3 else 1
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        if action == "paint":
            profiler.enable()
    probe = Probe(action, rounds, profiler)
    gc.callbacks.append(probe.on_gc)
    if kind == "minimal":
        run_minimal(probe)
    elif kind == "entry":
        if action != "paint":
            print(__doc__, file=sys.stderr)
            return 2
        run_entry(probe, args)
    else:
        run_rolecall(probe)
    probe.mark("run_returned")
    probe.figures["boto3_at_exit"] = "boto3" in sys.modules
    if profiler is not None and profile_to:
        profiler.disable()
        profiler.dump_stats(profile_to)
    write_figures(probe)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
