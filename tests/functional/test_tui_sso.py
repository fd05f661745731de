"""Pilot flows for an IAM Identity Center sign-in in the TUI: an assume whose source profile's
token is missing offers the sign-in, shows the device code (or waits for the browser) with a
countdown and Cancel, then goes on with the assume.

sso-oidc and the portal are `tests.sso_fake` (the demo's fake); STS is moto.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from rolecall.ui.app import RolecallApp
from rolecall.ui.screens.sign_in import SignInProgressScreen, SignInScreen
from rolecall.ui.widgets.sessions_panel import SessionsPanel
from tests.aws import RecordingProxy
from tests.functional.test_sso_login import AWS_CONFIG, CATALOGUE
from tests.functional.test_tui import SIZE, go_to, notifications, wait_for
from tests.functional.tui_support import FakeClock, build_app, screen_lines
from tests.sso_fake import START_URL, FakeIdentityCenter, browser_opens, fake_browser

TARGET = "sandbox/Deployer"


@pytest.fixture
def idc() -> Iterator[FakeIdentityCenter]:
    fake = FakeIdentityCenter()
    yield fake
    fake.close()


def sso_app(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sts: RecordingProxy,
    idc: FakeIdentityCenter,
    clock: FakeClock | None = None,
) -> tuple[RolecallApp, Path]:
    """The app over a catalogue whose roles come from the SSO profile `dev-sso`; the browser
    is the fake one (it approves at once); the second value is its log."""
    catalogue = tmp_path / "accounts.toml"
    catalogue.write_text(CATALOGUE)
    browser, log = fake_browser(tmp_path)
    app = build_app(
        tmp_path,
        sts.url,
        monkeypatch,
        catalogue=catalogue,
        clock=clock,
        extra_env={
            "AWS_ENDPOINT_URL_SSO_OIDC": idc.url,
            "AWS_ENDPOINT_URL_SSO": idc.url,
            "DISPLAY": ":0",
            "BROWSER": str(browser),
        },
    )
    for variable in ("SSH_CONNECTION", "SSH_TTY", "WAYLAND_DISPLAY"):
        app.workspace.env.pop(variable, None)
    Path(app.workspace.env["AWS_CONFIG_FILE"]).write_text(AWS_CONFIG.format(start_url=START_URL))
    return app, log


def screen_text(app: RolecallApp) -> str:
    """The screen as shown, and the dialog's lines unwrapped (long URLs wrap on screen)."""
    lines = [str(static.content) for static in app.screen.query(Static)]
    return "\n".join([*screen_lines(app), *lines])


def sign_in_threads() -> list[threading.Thread]:
    """Threads still running a sign-in (Textual names thread workers after the worker)."""
    return [t for t in threading.enumerate() if "sign-in" in t.name and t.is_alive()]


async def test_an_assume_needing_a_sign_in_offers_it_shows_the_code_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy, idc: FakeIdentityCenter
) -> None:
    clock = FakeClock()
    app, _ = sso_app(tmp_path, monkeypatch, sts, idc, clock)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, TARGET)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen))
        text = screen_text(app)
        assert f"Sign in to IAM Identity Center ({START_URL}) to continue?" in text
        assert f"Assuming {TARGET}" in text
        assert "d: use a device code instead" in text
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, SignInProgressScreen))
        screen = app.screen
        assert isinstance(screen, SignInProgressScreen)
        code = screen.prompt.user_code
        assert code
        text = screen_text(app)
        assert code in text
        assert f"{idc.url}/device" in text
        assert "The code expires in 10:00." in text
        clock.advance(seconds=75)
        screen.show_countdown()
        await pilot.pause()
        assert "The code expires in 8:45." in screen_text(app)
        assert idc.approve_device(code)
        panel = app.query_one(SessionsPanel)
        await wait_for(pilot, lambda: bool(panel.sessions), tries=300)
        assert panel.sessions[0].session.target == TARGET
        assert not isinstance(app.screen, SignInProgressScreen | SignInScreen)
        assert any("Signed in to IAM Identity Center" in n for n in notifications(app))
    assert idc.counts["device"] == 1
    assert idc.counts["credentials"] == 1
    assert sign_in_threads() == []


async def test_the_browser_sign_in_uses_the_configured_browser_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy, idc: FakeIdentityCenter
) -> None:
    app, log = sso_app(tmp_path, monkeypatch, sts, idc)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, TARGET)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen))
        await pilot.press("enter")  # the browser, with PKCE
        panel = app.query_one(SessionsPanel)
        await wait_for(pilot, lambda: bool(panel.sessions), tries=300)
        assert panel.sessions[0].session.target == TARGET
        assert not isinstance(app.screen, SignInProgressScreen)
    assert browser_opens(log) == 1
    assert idc.counts["authorize"] == 1 and idc.counts["device"] == 0
    assert "callback Signed in" in log.read_text()


@pytest.mark.parametrize("flow", ["device", "browser"])
async def test_cancel_stops_the_sign_in_at_once(
    flow: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sts: RecordingProxy,
    idc: FakeIdentityCenter,
) -> None:
    idc.authorize_mode = "ignore"  # the browser tab is left open: nothing comes back
    app, _ = sso_app(tmp_path, monkeypatch, sts, idc)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, TARGET)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen))
        await pilot.press("d" if flow == "device" else "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SignInProgressScreen), tries=200)
        text = screen_text(app)
        if flow == "browser":
            assert "Waiting for the browser…" in text
            assert "Waiting 10:00 more." in text
            assert f"{idc.url}/authorize?" in text
        await pilot.press("escape")
        started = time.monotonic()
        await wait_for(pilot, lambda: not sign_in_threads(), tries=40)
        assert time.monotonic() - started < 1.5
        await wait_for(pilot, lambda: any("cancelled" in n for n in notifications(app)))
        polls = idc.counts["grant:urn:ietf:params:oauth:grant-type:device_code"]
        await pilot.pause(2.2)  # two polling intervals of the fake
        assert idc.counts["grant:urn:ietf:params:oauth:grant-type:device_code"] == polls
        assert app.query_one(SessionsPanel).sessions == []
        assert not isinstance(app.screen, SignInProgressScreen | SignInScreen)
    assert sts.calls() == []


@pytest.mark.parametrize(
    ("setting", "sentence"),
    [
        ("device_mode", 'IAM Identity Center denied the sign-in to sso-session "corp".'),
        ("authorize_mode", 'the sign-in to sso-session "corp" was denied in the browser.'),
    ],
)
async def test_a_failed_sign_in_is_one_sentence_and_a_hint(
    setting: str,
    sentence: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sts: RecordingProxy,
    idc: FakeIdentityCenter,
) -> None:
    setattr(idc, setting, "deny")
    app, _ = sso_app(tmp_path, monkeypatch, sts, idc)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, TARGET)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen))
        await pilot.press("d" if setting == "device_mode" else "enter")
        await wait_for(
            pilot, lambda: any(n.severity == "error" for n in app._notifications), tries=300
        )
        (error,) = [n for n in app._notifications if n.severity == "error"]
        first, hint = error.message.split("\n")
        assert first == sentence
        assert "rolecall login corp" in hint
        assert "Traceback" not in error.message
        assert not isinstance(app.screen, SignInProgressScreen | SignInScreen)
        assert app.query_one(SessionsPanel).sessions == []


async def test_declining_the_offer_assumes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy, idc: FakeIdentityCenter
) -> None:
    app, log = sso_app(tmp_path, monkeypatch, sts, idc)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, TARGET)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen))
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.query_one(SessionsPanel).sessions == []
    assert idc.counts["register"] == 0 and browser_opens(log) == 0


async def test_the_demo_way_a_device_code_that_approves_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy, idc: FakeIdentityCenter
) -> None:
    """What `rolecall demo` sets: the device code by default, a note in the dialog, and an
    Identity Center that approves the code by itself."""
    idc.approve_after = 1.0
    app, log = sso_app(tmp_path, monkeypatch, sts, idc)
    app.workspace.sso_device_code = True
    app.workspace.sign_in_note = "Demo world: nobody has to enter this code."
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, TARGET)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen))
        assert "enter: sign in with a device code" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SignInProgressScreen), tries=200)
        assert "Demo world: nobody has to enter this code." in screen_text(app)
        panel = app.query_one(SessionsPanel)
        await wait_for(pilot, lambda: bool(panel.sessions), tries=300)
    assert browser_opens(log) == 0
