"""Drive the demo headless with Pilot and write SVG (and PNG, if a converter exists) screenshots.

`make screenshots` runs this. It starts the demo world, opens the TUI on it at 150x40, and
saves: the main screen, the template picker with the CloudTrail preview, the MFA dialog, the
sessions panel with a session near expiry, the help screen, and the sessions again on an
80x24 terminal.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rolecall.core.catalogue.store import load
from rolecall.core.locations import Locations
from rolecall.core.workspace import Workspace
from rolecall.demo.world import DemoWorld, demo_mfa_code
from rolecall.ui.app import RolecallApp, make_app
from rolecall.ui.screens.modals import MfaScreen
from rolecall.ui.widgets.catalogue_list import CatalogueList
from rolecall.ui.widgets.sessions_panel import SessionsPanel

OUT = Path(__file__).resolve().parent
SIZE = (150, 40)
SMALL = (80, 24)
"""The last shot: the same session on a small terminal (the panes stack)."""


class Clock:
    """Real time, plus an offset the script moves forward for the near-expiry shot."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + self.offset


async def wait_until(pilot: object, condition: object, tries: int = 200) -> None:
    for _ in range(tries):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the demo did not reach the expected state")


def select(app: RolecallApp, target: str) -> None:
    listing = app.query_one(CatalogueList)
    rows = [app.workspace.catalogue.role_at(i).target for i in listing.rows]
    listing.focus()
    listing.cursor = rows.index(target)


async def shoot(world: DemoWorld) -> list[Path]:
    os.environ.update(world.env())  # boto3 reads the process environment
    env = dict(os.environ)
    locations = Locations.from_env(env)
    clock = Clock()
    workspace = Workspace(
        load(world.catalogue, locations.cache_dir),
        locations,
        env,
        clock=clock,
        user="alice",
        host="laptop",
    )
    workspace.mfa_hint = lambda: (
        f"Demo world: the code now is {demo_mfa_code()} (any 6 digits work here)."
    )
    app = make_app(workspace, clock=clock, tick_seconds=3600)
    app.title = "rolecall demo"
    written: list[Path] = []

    def save(name: str) -> None:
        path = OUT / f"{name}.svg"
        path.write_text(app.export_screenshot(title=f"rolecall: {name}"))
        written.append(path)

    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.caller is not None)
        select(app, "payments-dev/Developer")
        await pilot.pause()
        save("main")
        select(app, "payments-prod/Admin")
        await pilot.pause()
        save("template-preview")
        select(app, "identity/OrgAccess")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MfaScreen))
        await pilot.press(*"42")
        await pilot.pause()
        save("mfa")
        await pilot.press("escape")
        select(app, "payments-dev/Developer")
        await pilot.press("enter")
        panel = app.query_one(SessionsPanel)
        await wait_until(pilot, lambda: bool(panel.sessions))
        select(app, "data-lake/Analyst")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(panel.sessions) == 2)
        first = panel.sessions[0].session
        clock.offset = first.expiration - clock() - timedelta(minutes=6, seconds=23)
        app.tick()
        await pilot.pause(0.5)
        save("sessions-near-expiry")
        await pilot.press("question_mark")
        await pilot.pause()
        save("help")
        await pilot.press("escape")
        await pilot.resize_terminal(*SMALL)
        select(app, "payments-dev/Developer")
        app.tick()
        await pilot.pause(0.5)
        save("small-terminal")
    return written


def to_png(svg: Path) -> Path | None:
    """Convert with rsvg-convert or cairosvg when one is installed.

    Textual writes each run of one style as a positioned `<text>` whose spaces are no-break
    spaces; without `xml:space="preserve"` librsvg drops those at the start of a run, and
    columns that are apart on screen ran together in the PNG. The SVG itself is unchanged.
    """
    png = svg.with_suffix(".png")
    with tempfile.TemporaryDirectory() as folder:
        preserved = Path(folder) / svg.name
        preserved.write_text(
            svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1),
            encoding="utf-8",
        )
        if shutil.which("rsvg-convert"):
            subprocess.run(["rsvg-convert", "-o", str(png), str(preserved)], check=True)
            return png
        try:
            import cairosvg  # type: ignore[import-not-found]
        except ImportError:
            return None
        cairosvg.svg2png(url=str(preserved), write_to=str(png))
    return png


def main() -> int:
    with DemoWorld() as world:
        written = asyncio.run(shoot(world))
    for svg in written:
        png = to_png(svg)
        print(svg.relative_to(OUT.parent), "+ png" if png else "")
    if not any(svg.with_suffix(".png").exists() for svg in written):
        print("(no SVG converter found: install librsvg2-bin for PNGs)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
