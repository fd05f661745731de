"""Pilot flows for marking roles and running one command across the marked ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from rolecall.ui.app import RolecallApp
from rolecall.ui.commands import ACTIONS
from rolecall.ui.screens.run_across import CommandLineScreen, RunResultsScreen
from rolecall.ui.widgets.catalogue_list import CatalogueList
from tests.aws import RecordingProxy, journal_lines
from tests.functional.tui_support import build_app, until

SIZE = (150, 40)


def listed(app: RolecallApp) -> list[str]:
    """Every visible row's text."""
    listing = app.query_one(CatalogueList)
    return [listing.render_line(y).text for y in range(len(listing.rows))]


async def go_to(pilot: Pilot[int], app: RolecallApp, target: str) -> None:
    listing = app.query_one(CatalogueList)
    listing.focus()
    app.select_target(target)
    await pilot.pause()
    role = app.highlighted_role()
    assert role is not None and role.target == target


async def test_space_marks_and_unmarks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        assert not any("✓" in row for row in listed(app))  # no mark column until a mark
        await go_to(pilot, app, "payments-dev/Developer")
        await pilot.press("space")
        assert list(app.marked) == ["payments-dev/Developer"]
        role = app.highlighted_role()
        assert role is not None and role.target == "payments-dev/ReadOnly"  # moved on
        (marked,) = [row for row in listed(app) if "✓" in row]
        assert "payments-dev/Developer" in marked
        assert app.query_one("#left").border_subtitle == "1 marked"
        await go_to(pilot, app, "payments-dev/Developer")
        await pilot.press("space")
        assert app.marked == {}
        assert app.query_one("#left").border_subtitle == ""


async def test_marks_survive_a_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, "data-lake/Analyst")
        await pilot.press("space")
        await go_to(pilot, app, "payments-dev/ReadOnly")
        await pilot.press("space")
        await pilot.press("slash", *"data")
        assert len(listed(app)) == 1 and "✓" in listed(app)[0]
        await pilot.press("space")  # typed into the search, not a mark
        assert app.query_one("#search", Input).value == "data "
        for _ in range(5):
            await pilot.press("backspace")
        assert len(listed(app)) == 7
        assert [t for t in app.marked] == ["data-lake/Analyst", "payments-dev/ReadOnly"]
        assert sum("✓" in row for row in listed(app)) == 2
        assert [r.target for r in app.marked_roles()] == list(app.marked)


async def test_run_across_the_marked_roles_shows_each_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    assert ("Run a command across the marked roles", "run_across_marked") in ACTIONS
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")  # nothing marked yet: a notice, no dialog
        await pilot.press("escape")
        app.action_run_across_marked()
        await pilot.pause()
        assert any("Mark roles with space" in n.message for n in app._notifications)
        for target in ("payments-dev/Developer", "payments-dev/ReadOnly"):
            await go_to(pilot, app, target)
            await pilot.press("space")
        app.action_run_across_marked()
        await until(pilot, lambda: isinstance(app.screen, CommandLineScreen))
        command = (
            'sh -c \'echo "hi from $ROLECALL_TARGET"; '
            'test "$ROLECALL_TARGET" != payments-dev/ReadOnly || exit 4\''
        )
        app.screen.query_one("#argv", Input).value = command
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunResultsScreen), seconds=30)
        screen = app.screen
        assert isinstance(screen, RunResultsScreen)
        by_target = {o.target: o for o in screen.outcomes}
        assert by_target["payments-dev/Developer"].exit == 0
        assert by_target["payments-dev/ReadOnly"].exit == 4
        assert by_target["payments-dev/ReadOnly"].stdout == "hi from payments-dev/ReadOnly\n"
        shown = [str(s.render()) for s in screen.query(".outcome").results(Static)]
        assert any("payments-dev/ReadOnly  exit 4" in line for line in shown)
        assert "1 of 2 succeeded" in str(screen.query_one("#run-results-title", Static).render())
        assert len(sts.calls()) == 2
        journal = app.workspace.locations.journal_file
        events = sorted((e["event"], e["target"]) for e in journal_lines(journal))
        assert ("exec", "payments-dev/ReadOnly") in events
        await pilot.press("escape")
        assert not isinstance(app.screen, RunResultsScreen)


async def test_guarded_marked_roles_need_the_count_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, "payments-prod/ReadOnly")
        await pilot.press("space")
        app.action_run_across_marked()
        await until(pilot, lambda: isinstance(app.screen, CommandLineScreen))
        app.screen.query_one("#argv", Input).value = "true"
        app.screen.query_one("#argv", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CommandLineScreen)  # not confirmed yet
        assert "Type 1" in str(app.screen.query_one("#run-across-error", Static).render())
        await pilot.press("1", "enter")
        await until(pilot, lambda: isinstance(app.screen, RunResultsScreen), seconds=30)
        screen = app.screen
        assert isinstance(screen, RunResultsScreen)
        assert [o.exit for o in screen.outcomes] == [0]
