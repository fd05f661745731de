"""Pilot flows through the TUI, asserting on screen state and on the messages that flowed."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input, Static

from rolecall.core.credentials import rfc3339
from rolecall.ui.app import RolecallApp
from rolecall.ui.screens.modals import ConfirmScreen, HelpScreen, MfaScreen, VariablesScreen
from rolecall.ui.widgets.catalogue_list import CatalogueList
from rolecall.ui.widgets.role_detail import RoleDetail
from rolecall.ui.widgets.sessions_panel import SessionRow, SessionsPanel
from tests.aws import FakeSts, RecordingProxy
from tests.functional.tui_support import FakeClock, Launches, build_app

SIZE = (150, 40)


def targets(app: RolecallApp) -> list[str]:
    listing = app.query_one(CatalogueList)
    return [app.workspace.catalogue.role_at(i).target for i in listing.rows]


def detail_text(app: RolecallApp) -> str:
    return str(app.query_one(RoleDetail).render())


def notifications(app: RolecallApp) -> list[str]:
    return [n.message for n in app._notifications]


async def go_to(pilot: Pilot[int], target: str) -> None:
    app = pilot.app
    assert isinstance(app, RolecallApp)
    rows = targets(app)
    listing = app.query_one(CatalogueList)
    listing.focus()
    listing.cursor = rows.index(target)
    await pilot.pause()


async def wait_for(pilot: Pilot[int], condition: object, tries: int = 100) -> None:
    for _ in range(tries):
        if callable(condition) and condition():
            return
        await pilot.pause(0.05)
    app = pilot.app
    raise AssertionError(f"condition never held; notifications: {notifications(app)}")  # type: ignore[arg-type]


async def test_search_filters_on_every_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        assert len(targets(app)) == 7
        await pilot.press("slash", *"pay read")
        assert targets(app) == ["payments-prod/ReadOnly", "payments-dev/ReadOnly"]
        await pilot.press(*"only 2222")
        assert targets(app) == ["payments-dev/ReadOnly"]
        await pilot.press("enter")
        assert isinstance(app.focused, CatalogueList)
        assert "payments-dev/ReadOnly" in detail_text(app)


async def test_favourites_first_and_order_toggle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "data-lake/Analyst")
        await pilot.press("f")
        assert targets(app)[0] == "data-lake/Analyst"
        assert app.highlighted_role() is not None
        assert app.highlighted_role().target == "data-lake/Analyst"  # type: ignore[union-attr]
        state = (app.workspace.locations.state_file).read_text()
        assert 'favourites = [\n    "data-lake/Analyst",\n]' in state
        assert app.workspace.locations.state_file.stat().st_mode & 0o777 == 0o600
        await pilot.press("o")
        assert targets(app) == sorted(targets(app), key=str.lower)
        await pilot.press("o")
        assert targets(app)[0] == "data-lake/Analyst"


async def test_template_change_updates_the_live_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "payments-dev/Developer")
        text = detail_text(app)
        assert "@default: {user}@{host}" in text
        assert "alice@laptop" in text
        assert (
            "CloudTrail will show: arn:aws:sts::222222222222:assumed-role/Developer/alice@laptop"
            in text
        )
        await pilot.press("t")
        text = detail_text(app)
        assert "@ticket: {user}-{ticket}" in text
        assert "alice-{ticket}" in text and "asks for ticket" in text
        await pilot.press("t")
        assert "oncall-alice-" in detail_text(app)


async def test_assume_with_confirmation_variables_and_mfa(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    messages: list[Message] = []
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await go_to(pilot, "payments-prod/Admin")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press(*"payments-prod", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, VariablesScreen))
        await pilot.press(*"INC42", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MfaScreen))
        await pilot.press(*"123456", "enter")
        panel = app.query_one(SessionsPanel)
        await wait_for(pilot, lambda: bool(panel.sessions))
        # the chain's hub hop, cached on the way (and reused), has a row of its own
        targets_shown = {a.session.target for a in panel.sessions}
        assert targets_shown == {"payments-prod/Admin", "identity/OrgAccess"}
        (active,) = [a for a in panel.sessions if a.session.target == "payments-prod/Admin"]
        assert active.session.assumed_role_arn == (
            "arn:aws:sts::111111111111:assumed-role/Admin/alice-INC42"
        )
        hub, admin = sts.calls()
        assert hub.params["TokenCode"] == "123456"
        assert admin.params["RoleSessionName"] == "alice-INC42"
        assert any(n.title == "Assumed" for n in app._notifications)
        assert "payments-prod/Admin" in app.query_one(CatalogueList).active
    names = {type(m).__name__ for m in messages}
    assert {"Highlighted", "Submitted"} <= names


async def test_refused_confirmation_assumes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "payments-prod/ReadOnly")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press(*"payments-dev", "enter")  # the wrong name: asked again
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        error = str(app.screen.query_one("#confirm-error", Static).render())
        assert "That is not 'payments-prod'" in error
        assert app.screen.query_one("#answer", Input).value == ""
        await pilot.press("escape")
        await wait_for(pilot, lambda: any("Not confirmed" in m for m in notifications(app)))
        assert sts.calls() == []
        assert app.query_one(SessionsPanel).sessions == []


async def test_mfa_cancel_and_access_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    app = build_app(tmp_path, fake_sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "identity/OrgAccess")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MfaScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, MfaScreen))
        assert fake_sts.calls() == []
        fake_sts.mode = "access_denied"
        await go_to(pilot, "payments-dev/Developer")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("not allowed to assume" in m for m in notifications(app)))
        (error,) = [n for n in app._notifications if n.severity == "error"]
        assert "trust policy" in error.message
        assert "Traceback" not in error.message


async def test_the_ui_stays_responsive_while_sts_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    fake_sts.mode = "hang"
    app = build_app(tmp_path, fake_sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "payments-dev/Developer")
        await pilot.press("enter")
        await pilot.pause(0.2)
        await pilot.press("slash", *"data")  # the event loop still handles keys
        assert targets(app) == ["data-lake/Analyst"]
        await wait_for(
            pilot, lambda: any("did not answer in time" in m for m in notifications(app))
        )


async def test_renew_forget_and_subshell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    launches = Launches(status=3)
    app = build_app(tmp_path, sts.url, monkeypatch, launches=launches)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "payments-dev/Developer")
        await pilot.press("enter")
        panel = app.query_one(SessionsPanel)
        await wait_for(pilot, lambda: bool(panel.sessions))
        first = panel.sessions[0]
        await pilot.press("s")
        await wait_for(pilot, lambda: bool(launches.calls))
        argv, env = launches.calls[0]
        assert argv == ["/bin/test-shell"]
        assert env["ROLECALL_TARGET"] == "payments-dev/Developer"
        assert env["AWS_ACCESS_KEY_ID"] == first.session.credentials.access_key_id
        assert env["AWS_CREDENTIAL_EXPIRATION"] == rfc3339(first.session.expiration)
        assert "AWS_PROFILE" not in env
        await wait_for(pilot, lambda: any("exited (3)" in m for m in notifications(app)))
        await pilot.press("r")
        await wait_for(pilot, lambda: len(sts.calls()) == 2)
        await wait_for(pilot, lambda: bool(panel.sessions) and panel.sessions[0] != first)
        assert len(panel.sessions) == 1
        key_file = app.workspace.cache.directory / f"{panel.sessions[0].key}.json"
        assert key_file.exists()
        await pilot.press("d")
        await wait_for(pilot, lambda: not panel.sessions)
        assert not key_file.exists()


async def test_countdown_ticks_with_the_injected_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    messages: list[Message] = []
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    app = build_app(tmp_path, sts.url, monkeypatch, clock=clock)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await go_to(pilot, "data-lake/Analyst")
        await pilot.press("enter")
        panel = app.query_one(SessionsPanel)
        await wait_for(pilot, lambda: bool(panel.sessions))
        row = app.query_one(SessionRow)
        left = panel.sessions[0].session.remaining(clock())
        assert 3500 < left <= 3660
        clock.advance(seconds=left - 9 * 60)
        app.tick()
        await pilot.pause()
        assert row.has_class("-expiring") and "09:00" in str(row.render())
        clock.advance(seconds=8 * 60)
        app.tick()
        await pilot.pause()
        assert row.has_class("-critical") and not row.has_class("-expiring")
        clock.advance(seconds=61)
        app.tick()
        await pilot.pause()
        assert row.has_class("-expired") and "expired" in str(row.render())
        assert "payments" not in str(app.query_one(CatalogueList).active)
    crossed = [m for m in messages if isinstance(m, SessionsPanel.ThresholdCrossed)]
    stages = [m.stage for m in dict.fromkeys(crossed)]  # a bubbling message is seen per node
    assert stages == ["expiring", "critical", "expired"]
    assert any("less than 10 minutes left" in n for n in notifications(app))


async def test_sessions_in_the_cache_are_shown_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    first = build_app(tmp_path, sts.url, monkeypatch)
    async with first.run_test(size=SIZE) as pilot:
        await go_to(pilot, "payments-dev/Developer")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(first.query_one(SessionsPanel).sessions))
    second = build_app(tmp_path, sts.url, monkeypatch)
    async with second.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        (active,) = second.query_one(SessionsPanel).sessions
        assert active.session.target == "payments-dev/Developer"


async def test_help_presenter_and_palette(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rendered = app.export_screenshot()
        for key_id in ("app.assume", "app.shell", "app.console", "app.presenter", "app.quit"):
            assert key_id in rendered
        await pilot.press("escape")
        await go_to(pilot, "payments-dev/Developer")
        await pilot.press("p")
        text = detail_text(app)
        assert "222222222222" not in text and "••••••••••••" in text
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not any("screenshot" in t.lower() for t in titles)


async def test_keys_can_be_remapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    config = tmp_path / "rolecall" / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('[keymap]\n"app.favourite" = "ctrl+f"\n')
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "data-lake/Analyst")
        await pilot.press("ctrl+f")
        assert "data-lake/Analyst" in app.workspace.state.favourites
        assert ("ctrl+f", "Favourite", "app.favourite") in app.key_help()


async def test_free_variables_are_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "payments-dev/Developer")
        await pilot.press("t", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, VariablesScreen))
        await pilot.press("enter")  # empty: refused, the dialog stays
        assert isinstance(app.screen, VariablesScreen)
        await pilot.press(*"T-1", "enter")
        await wait_for(pilot, lambda: bool(app.query_one(SessionsPanel).sessions))
        assert app.variables == {"ticket": "T-1"}
        assert "alice-T-1" in detail_text(app)
        search = app.query_one("#search", Input)
        assert search.value == ""


async def test_crash_exits_non_zero_without_locals(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sts: RecordingProxy,
    capfd: pytest.CaptureFixture[str],
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch)
    secret = "CANARYSECRETLOCAL"

    def explode() -> None:
        canary = secret  # a local that must not be printed
        raise RuntimeError("boom " + canary[:0])

    with pytest.raises(RuntimeError):
        async with app.run_test(size=SIZE) as pilot:
            app.call_later(explode)
            await pilot.pause(0.2)
    assert app.return_code == 1
    _, err = capfd.readouterr()
    assert secret not in err
    assert "unexpected internal error" in err


async def test_leaky_textual_settings_are_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch, extra_env={"TEXTUAL_LOG": "/tmp/x.log"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any("TEXTUAL_LOG is set" in m for m in notifications(app))


async def test_console_from_the_tui(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    from tests.aws import FakeFederation

    monkeypatch.delenv("TMUX", raising=False)  # inside tmux the link goes to a clipboard tool
    federation = FakeFederation()
    browser = tmp_path / "browser"
    log = tmp_path / "browser.log"
    browser.write_text(
        f"#!{sys.executable}\nimport sys, urllib.request\n"
        f"open({str(log)!r}, 'a').write(repr(sys.argv[1:]))\n"
        "urllib.request.urlopen(sys.argv[-1], timeout=10).read()\n"
    )
    browser.chmod(0o755)
    config = tmp_path / "rolecall" / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(f'[console]\nbrowser = ["{browser}", "{{url}}"]\n')
    try:
        app = build_app(
            tmp_path,
            fake_sts.url,
            monkeypatch,
            extra_env={"ROLECALL_FEDERATION_ENDPOINT": federation.url},
        )
        async with app.run_test(size=SIZE) as pilot:
            await go_to(pilot, "data-lake/Analyst")
            await pilot.press("c")  # no session yet: assume first, then open the console
            await wait_for(pilot, lambda: any("Console opened" in m for m in notifications(app)))
            argv = log.read_text()
            assert "127.0.0.1" in argv and federation.token not in argv
            app.action_copy_console_link()
            await wait_for(pilot, lambda: "SigninToken" in app.clipboard)
            assert len(federation.requests) == 2, "a fresh link each time"
        entries = [e["event"] for e in app.workspace.journal.entries()]
        assert entries == ["assume", "console", "console"]
    finally:
        federation.close()
