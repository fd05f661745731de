"""`rolecall` with no arguments (or only `--catalogue PATH`): the TUI, straight from
`rolecall.entry`.

The command line's parser, argparse and `rolecall.cli` are not needed to open the TUI, and
they would cost milliseconds before the first frame. Anything unusual (not a terminal, a
catalogue that does not load, a bad setting) is left to the full command line, which says
what is wrong exactly as `rolecall` always has.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rolecall.ui.app import RolecallApp


def prepared_app(environ: Mapping[str, str], catalogue: str | None = None) -> RolecallApp | None:
    """The app on `catalogue` (`--catalogue`), else the one the environment names; None to
    leave it to the command line (not a terminal, or any problem before the app exists)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None
    hold_collector()
    try:
        from rolecall.core.catalogue import store
        from rolecall.core.locations import Locations, catalogue_path
        from rolecall.core.sts.client_config import client_settings
        from rolecall.core.workspace import Workspace
        from rolecall.ui.app import make_app

        env = dict(environ)
        locations = Locations.from_env(env)
        loaded = store.load(catalogue_path(catalogue, env, locations), locations.cache_dir)
        workspace = Workspace(loaded, locations, env, client_settings=client_settings(env))
        return make_app(workspace)
    except Exception:  # the full command line reports it
        gc.enable()
        return None


def hold_collector() -> None:
    """Keep the cyclic garbage collector off until the app's first frame.

    Start-up builds some 65,000 long-lived objects (Textual, the catalogue, the app) and
    leaves a few hundred as garbage; the collections their allocations set off would walk
    them all, about 10 ms before the first frame for nothing. The app freezes what start-up
    built and turns the collector back on after that frame (`RolecallApp`'s first refresh).
    """
    gc.disable()


def run(app: RolecallApp) -> int:
    """Run the app; its exit code (130 on Ctrl-C outside the app).

    The app reports its own crashes in one line; anything that still escapes is said the way
    the command line says it (one line, exit 1, a traceback only with ROLECALL_DEBUG=1).
    """
    import os

    try:
        app.run()
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if os.environ.get("ROLECALL_DEBUG"):
            raise
        sys.stderr.write(
            f"rolecall: unexpected internal error ({type(error).__name__}); this is a bug.\n"
            "  hint: run again with ROLECALL_DEBUG=1 and report the traceback\n"
        )
        return 1
    return app.return_code or 0
