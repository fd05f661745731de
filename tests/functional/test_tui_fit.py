"""The TUI at any terminal size, and its keys and dialogs.

At every size the list, the sessions with their countdowns and the footer's essential keys
(`?`, `q`, `enter`) are on screen; columns are cut with `…` and never run together; account
ids are always whole. Then: the search box's `escape`/`down`, `o` keeping the cursor, the
variables dialog saying what is still needed, and `c` without a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from rolecall.ui.app import RolecallApp
from rolecall.ui.screens.modals import LinkScreen, VariablesScreen
from rolecall.ui.widgets.catalogue_list import CatalogueList
from rolecall.ui.widgets.role_detail import RoleDetail
from rolecall.ui.widgets.sessions_panel import SessionsPanel
from tests.aws import FakeFederation, FakeSts
from tests.functional.tui_support import app_without_a_browser, build_app, screen_lines, until

COUNTDOWN = re.compile(r"\b\d?\d?:?\d\d:\d\d\b")

LONG = """\
version = 1
[defaults]
region = "eu-west-1"
source_profile = "identity"
session_name = "{user}-a-rather-long-session-name-for-{host}"

[[accounts]]
name = "security-audit-and-compliance"
id = "444444444444"
tags = ["security", "audit", "compliance", "long-tag-list"]

  [[accounts.roles]]
  name = "BreakGlassEmergencyAccess"

  [[accounts.roles]]
  name = "Auditor"
"""


def highlighted(app: RolecallApp) -> str:
    role = app.highlighted_role()
    assert role is not None
    return role.target


async def assume(pilot: Pilot[int], app: RolecallApp, target: str) -> None:
    app.select_target(target)
    await pilot.press("enter")
    panel = app.query_one(SessionsPanel)
    await until(pilot, lambda: any(a.session.target == target for a in panel.sessions))
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40), (200, 60)])
async def test_list_sessions_and_essential_keys_fit_every_size(
    size: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    app = build_app(tmp_path, fake_sts.url, monkeypatch)
    width, height = size
    async with app.run_test(size=size) as pilot:
        await assume(pilot, app, "payments-dev/Developer")
        lines = screen_lines(app)
        assert len(lines) == height
        panel = app.query_one(SessionsPanel)
        for widget in (app.query_one(CatalogueList), app.query_one(RoleDetail), panel):
            region = widget.region
            assert region.height > 0 and region.bottom <= height - 1, (widget, region)
            assert region.right <= width, (widget, region)
        inside = lines[panel.region.y : panel.region.bottom]
        assert any("payments-dev/Developer" in line and COUNTDOWN.search(line) for line in inside)
        footer = lines[-1]
        for key in ("⏎ Assume", "? Help", "q Quit"):
            assert key in footer, footer
        text = "\n".join(lines)
        for account_id in ("000000000000", "111111111111", "222222222222", "333333333333"):
            assert account_id in text  # never cut
        detail = app.query_one(RoleDetail).content_region
        joined = "".join(
            line[detail.x : detail.right].strip() for line in lines[detail.y : detail.bottom]
        )
        assert "CloudTrail" in joined  # the pane's last line is on screen, whole
        assert "arn:aws:sts::222222222222:assumed-role/Developer/alice@laptop" in joined
        assert "Developeralice" not in text and "laptop✓" not in text
        # tab goes only to what is shown: the sessions panel is on screen
        for _ in range(4):
            await pilot.press("tab")
            if app.focused is panel:
                break
        assert app.focused is panel and panel.region.height > 0


async def test_long_names_are_cut_with_an_ellipsis_and_ids_stay_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    catalogue = tmp_path / "long.toml"
    catalogue.write_text(LONG)
    app = build_app(tmp_path, fake_sts.url, monkeypatch, catalogue=catalogue)
    async with app.run_test(size=(80, 24)) as pilot:
        await assume(pilot, app, "security-audit-and-compliance/BreakGlassEmergencyAccess")
        listing = app.query_one(CatalogueList)
        lines = [listing.render_line(y).text for y in range(len(listing.rows))]
        for line in lines:
            assert "  444444444444" in line, line  # whole, and apart from the name
        panel = app.query_one(SessionsPanel)
        (session_row,) = panel.rows
        text = str(session_row.render())
        assert "…" in text and "  " in text.strip()
        assert len(text) <= panel.region.width
        assert "alice-a-rather" in text


async def test_escape_and_down_leave_the_search_box_for_the_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    app = build_app(tmp_path, fake_sts.url, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"pay")
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        assert isinstance(app.focused, CatalogueList)
        assert app.query_one("#search", Input).value == "pay"  # the search stays
        await pilot.press("slash", "down")
        assert isinstance(app.focused, CatalogueList)
        await pilot.press("down")
        assert app.query_one(CatalogueList).cursor == 1


async def test_o_keeps_the_cursor_on_the_same_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    app = build_app(tmp_path, fake_sts.url, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        app.select_target("payments-dev/ReadOnly")
        await pilot.pause()
        await pilot.press("o")
        assert highlighted(app) == "payments-dev/ReadOnly"
        assert app.query_one(CatalogueList).cursor != 0
        await pilot.press("o")
        assert highlighted(app) == "payments-dev/ReadOnly"


async def test_the_variables_dialog_says_what_is_needed_and_previews_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    app = build_app(tmp_path, fake_sts.url, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        app.select_target("payments-dev/Developer")
        await pilot.press("t", "enter")
        await until(pilot, lambda: isinstance(app.screen, VariablesScreen))
        screen = app.screen

        def said(id: str) -> str:
            return str(screen.query_one(id, Static).render())

        await pilot.pause()
        assert "Still needed: ticket" in said("#variables-needed")
        assert "alice-{ticket}" in said("#variables-preview")
        await pilot.press(*"INC7")
        assert "Still needed" not in said("#variables-needed")
        preview = said("#variables-preview")
        assert "Session name: alice-INC7" in preview
        assert "arn:aws:sts::222222222222:assumed-role/Developer/alice-INC7" in preview
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        assert "Still needed: ticket" in said("#variables-needed")
        assert fake_sts.calls() == []


async def test_c_without_a_browser_offers_the_link_to_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    federation = FakeFederation()
    try:
        app = app_without_a_browser(tmp_path, fake_sts.url, monkeypatch, federation.url)
        async with app.run_test(size=(120, 40)) as pilot:
            app.select_target("data-lake/Analyst")
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, LinkScreen))
            await pilot.pause()
            notices = [n.message for n in app._notifications]
            assert not any("--print" in n or "--copy" in n for n in notices)
            screen = app.screen
            assert isinstance(screen, LinkScreen)
            assert "cannot start the browser" in "\n".join(screen_lines(app))
            assert federation.token in screen.query_one("#link").text  # type: ignore[attr-defined]
            await pilot.press("y")
            await until(pilot, lambda: federation.token in app.clipboard)
            assert not isinstance(app.screen, LinkScreen)
    finally:
        federation.close()


async def test_the_layout_follows_a_resized_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    app = build_app(tmp_path, fake_sts.url, monkeypatch)
    async with app.run_test(size=(150, 40)) as pilot:
        await assume(pilot, app, "payments-dev/Developer")
        detail = app.query_one(RoleDetail)
        assert not detail.compact and app.screen.has_class("-wide")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert detail.compact and app.screen.has_class("-narrow")
        panel = app.query_one(SessionsPanel)
        assert panel.region.height > 0 and panel.region.bottom <= 23
        assert "q Quit" in screen_lines(app)[-1]
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert not detail.compact
