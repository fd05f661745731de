"""SVG snapshots of the TUI's main states (pytest-textual-snapshot's `snap_compare`).

The pictures must come out the same on any machine, so every input is pinned:
- STS is `FakeSts` (fixed credentials; GetCallerIdentity answers
  arn:aws:iam::000000000000:user/alice), never moto;
- the clock is a `FakeClock` at a fixed instant; FakeSts stamps Expiration with the real
  time, so the near-expiry shot moves the clock relative to the session's own expiration;
- user and host are "alice" and "laptop" (build_app), the terminal is 150x40 (and 80x24,
  120x40 and 200x60 for the layout at each size), the theme is
  pinned and NO_COLOR is removed (Textual reads it when the app is built);
- every shot waits until the caller identity is resolved, and for the app's workers to end.

FakeSts answers canary credentials, and every SVG taken is checked to hold none of them (only
the access key id's last four characters would be allowed).

After an intended change to the UI, regenerate and review the pictures:
    .venv/bin/pytest tests/snapshots --snapshot-update
then open tests/snapshots/__snapshots__/test_snapshots/*.svg in a browser before committing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from rolecall.core.lifecycle.sso_signin import SignInPrompt
from rolecall.core.lifecycle.sso_token import SsoSource
from rolecall.ui.app import RolecallApp
from rolecall.ui.screens.modals import HelpScreen, MfaScreen
from rolecall.ui.screens.sign_in import SignInProgressScreen
from rolecall.ui.widgets.sessions_panel import SessionRow, SessionsPanel
from tests.aws import FakeSts
from tests.functional.tui_support import START, FakeClock, app_of, build_app, until

SIZE = (150, 40)
THEME = "textual-dark"
SNAPSHOTS = Path(__file__).parent / "__snapshots__"

CANARY_KEY_ID = "ASIACANARYKEY0000001"
CANARY_SECRET = "CANARYSECRET0123456789abcdefghijklmnopqrs"
CANARY_TOKEN = "CANARYTOKEN" + "0123456789" * 30
CANARIES = (CANARY_KEY_ID, CANARY_KEY_ID[:-4], "CANARYSECRET", "CANARYTOKEN")
"""The full key id, its unmasked head, and the secret parts: none may be in a picture."""

REPORT_DIR = os.environ.get("TEXTUAL_SNAPSHOT_TEMPDIR")
"""Set by the plugin at session start (before collection); conftest's isolation removes every
TEXTUAL* variable before each test, and the plugin reads it back when a comparison is made."""

Snap = Callable[..., bool]
RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


@dataclass
class Shot:
    """An app ready to be photographed, and the SVGs taken of it."""

    app: RolecallApp
    clock: FakeClock
    sts: FakeSts
    svgs: list[str] = field(default_factory=list)


@pytest.fixture
def shot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts) -> Shot:
    fake_sts.access_key_id = CANARY_KEY_ID
    fake_sts.secret = CANARY_SECRET
    fake_sts.token = CANARY_TOKEN
    monkeypatch.delenv("NO_COLOR", raising=False)
    clock = FakeClock(START)
    app = build_app(tmp_path, fake_sts.url, monkeypatch, clock=clock)
    if REPORT_DIR is not None:  # after the app has read the environment
        monkeypatch.setenv("TEXTUAL_SNAPSHOT_TEMPDIR", REPORT_DIR)
    taken = Shot(app, clock, fake_sts)
    export = app.export_screenshot

    def recording(*, title: str | None = None, simplify: bool = False) -> str:
        svg = export(title=title, simplify=simplify)
        taken.svgs.append(svg)
        return svg

    monkeypatch.setattr(app, "export_screenshot", recording)
    return taken


def compare(
    shot: Shot, snap_compare: Snap, run_before: RunBefore, size: tuple[int, int] = SIZE
) -> None:
    """Take the picture; check it for canaries, then against the stored snapshot."""
    matches = snap_compare(shot.app, terminal_size=size, run_before=run_before)
    (svg,) = shot.svgs
    for canary in CANARIES:
        assert canary not in svg
    assert matches


async def settle(pilot: Pilot[Any]) -> None:
    """Let every worker (GetCallerIdentity, assume) finish and the screen repaint."""
    await pilot.pause()
    await app_of(pilot).workers.wait_for_complete()
    await pilot.pause()


async def ready(pilot: Pilot[Any]) -> None:
    """First paint done, theme pinned, caller identity resolved."""
    app = app_of(pilot)
    app.theme = THEME
    await until(pilot, lambda: app.caller is not None)
    assert app.caller == "arn:aws:iam::000000000000:user/alice"
    await settle(pilot)


async def drop_toasts(app: RolecallApp) -> None:
    """Forget every notification and remove the toasts of every screen: the app only clears
    the rack of the top screen, and a modal shows the one of the screen below it."""
    app.clear_notifications()
    for screen in app.screen_stack:
        await screen.query("ToastHolder").remove()


async def select(pilot: Pilot[Any], target: str) -> None:
    app = app_of(pilot)
    app.select_target(target)
    await settle(pilot)
    role = app.highlighted_role()
    assert role is not None and role.target == target


def test_main_screen(shot: Shot, snap_compare: Snap) -> None:
    """The catalogue, the detail pane of the first role, no sessions, the footer."""
    compare(shot, snap_compare, ready)


def test_mfa_modal(shot: Shot, snap_compare: Snap) -> None:
    """Enter on identity/OrgAccess (it has an MFA device): the code dialog."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await select(pilot, "identity/OrgAccess")
        await pilot.press("enter")
        app = app_of(pilot)
        await until(pilot, lambda: isinstance(app.screen, MfaScreen))
        app.screen.query_one("#code", Input).cursor_blink = False  # a steady cursor
        await drop_toasts(app)  # "Assuming …" lives 2 s of real time, behind the dialog

    compare(shot, snap_compare, run_before)
    assert shot.sts.calls() == []  # the dialog comes before any AssumeRole


def test_session_near_expiry(shot: Shot, snap_compare: Snap) -> None:
    """payments-dev/Developer assumed, the clock moved to 5 minutes before it expires."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = app_of(pilot)
        await ready(pilot)
        await select(pilot, "payments-dev/Developer")
        await pilot.press("enter")
        panel = app.query_one(SessionsPanel)
        await until(pilot, lambda: bool(panel.sessions))
        await settle(pilot)
        await drop_toasts(app)  # "Assumed … valid for N min" depends on the real time
        (active,) = panel.sessions
        shot.clock.now = active.session.expiration - timedelta(minutes=5)
        app.tick()
        await pilot.pause()
        row = app.query_one(SessionRow)
        assert row.has_class("-expiring") and "05:00" in str(row.render())

    compare(shot, snap_compare, run_before)
    (call,) = shot.sts.calls()
    assert call.params["RoleSessionName"] == "alice@laptop"


def test_help_screen(shot: Shot, snap_compare: Snap) -> None:
    """`?`: every key with its binding id."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app_of(pilot).screen, HelpScreen))
        await pilot.pause()

    compare(shot, snap_compare, run_before)


def test_presenter_mode(shot: Shot, snap_compare: Snap) -> None:
    """`p`: account ids and ARNs masked in the list, the detail pane and the header."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert app_of(pilot).presenter

    compare(shot, snap_compare, run_before)
    (svg,) = shot.svgs
    assert "000000000000" not in svg and "111111111111" not in svg


def test_device_code_modal(shot: Shot, snap_compare: Snap) -> None:
    """The Identity Center device-code dialog: a fixed code and page, the countdown from the
    fixed clock (10:00), Cancel."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = app_of(pilot)
        await ready(pilot)
        page = "https://device.sso.eu-west-1.amazonaws.com/"
        prompt = SignInPrompt(
            SsoSource("https://corp.awsapps.com/start", "eu-west-1", "corp"),
            "device",
            page,
            user_code="WDJB-MJHT",
            url_with_code=f"{page}?user_code=WDJB-MJHT",
            expires_in=600,
        )
        screen = SignInProgressScreen(
            prompt, "https://corp.awsapps.com/start", threading.Event(), app.clock
        )
        await app.push_screen(screen)
        screen.query_one(TextArea).cursor_blink = False  # a steady cursor
        await drop_toasts(app)
        await pilot.pause()

    compare(shot, snap_compare, run_before)


@pytest.mark.parametrize(
    "size", [(80, 24), (120, 40), (200, 60)], ids=lambda s: "x".join(map(str, s))
)
def test_main_screen_sizes(size: tuple[int, int], shot: Shot, snap_compare: Snap) -> None:
    """The layout at three sizes, with a session counting down (42:00 left) and a long
    target: under 120 columns the panes stack and the detail pane folds; the footer keeps
    `?`, `q` and `enter`; names are cut with `…`, account ids never."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = app_of(pilot)
        await ready(pilot)
        await select(pilot, "payments-dev/Developer")
        await pilot.press("enter")
        panel = app.query_one(SessionsPanel)
        await until(pilot, lambda: bool(panel.sessions))
        await settle(pilot)
        await drop_toasts(app)
        (active,) = panel.sessions
        shot.clock.now = active.session.expiration - timedelta(minutes=42)
        app.tick()
        await pilot.pause()

    compare(shot, snap_compare, run_before, size)


def test_stored_snapshots_hold_no_canary(request: pytest.FixtureRequest) -> None:
    """The committed pictures themselves (they are what reviewers and CI artefacts see)."""
    if request.config.getoption("update_snapshots", default=False):
        pytest.skip("the pictures are written when an updating session ends")
    svgs = sorted(SNAPSHOTS.rglob("*.svg"))
    assert len(svgs) >= 5
    for path in svgs:
        text = path.read_text(encoding="utf-8")
        for canary in CANARIES:
            assert canary not in text, path.name
