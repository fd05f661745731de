"""Pilot flows for sessions that outlive the hour in the TUI: `k` keeps a session alive, and
`s` with `[tui] shell_server = true` gives the shell a credential server."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.message import Message

from rolecall.core.sts.planner import AssumeOptions
from rolecall.core.workspace import run_child
from rolecall.ui.app import RolecallApp
from rolecall.ui.keeping import Keep
from rolecall.ui.screens.modals import MfaScreen
from rolecall.ui.widgets.sessions_panel import SessionRow, SessionsPanel
from tests.aws import FakeSts, RecordingProxy
from tests.functional.test_tui import SIZE, go_to, notifications, wait_for
from tests.functional.tui_support import FakeClock, Launches, build_app


class RealClock(FakeClock):
    """The wall clock (the keeper sleeps in real seconds)."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


def row_text(app: RolecallApp) -> str:
    return str(app.query_one(SessionRow).render())


async def test_k_renews_in_the_background_and_k_again_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch, clock=RealClock())
    app.renew_before = 8 * 3600 - 3  # an 8-hour session, renewed 3 s after it was issued
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "payments-dev/Developer")
        await pilot.press("enter")
        panel = app.query_one(SessionsPanel)
        await wait_for(pilot, lambda: bool(panel.sessions))
        first = panel.sessions[0].session
        await pilot.press("k")
        assert "⟳ kept" in row_text(app)
        await wait_for(pilot, lambda: panel.sessions[0].session.expiration > first.expiration)
        renewed = panel.sessions[0].session
        assert renewed.credentials.access_key_id != first.credentials.access_key_id
        # The countdown restarted: the renewed session has more time left than the first.
        now = app.clock()
        assert renewed.remaining(now) > first.remaining(now)
        assert len(panel.sessions) == 1 and "⟳ kept" in row_text(app)
        assert any("Renewed payments-dev/Developer" in n for n in notifications(app))
        await pilot.press("k")
        assert app.kept == {}
        assert "kept" not in row_text(app)
        assert any("Stopped keeping" in n for n in notifications(app))
        calls = len(sts.calls())
        await pilot.pause(4)
        assert len(sts.calls()) == calls, "no renewal after k stopped it"
    used_by = [e.get("used_by") for e in app.workspace.journal.entries()]
    assert "renewal" in used_by


async def test_a_failed_renewal_is_said_once_and_the_session_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    app = build_app(tmp_path, fake_sts.url, monkeypatch, clock=clock)
    app.renew_before = 8 * 3600 - 10
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "payments-dev/Developer")
        await pilot.press("enter")
        panel = app.query_one(SessionsPanel)
        await wait_for(pilot, lambda: bool(panel.sessions))
        first = panel.sessions[0]
        fake_sts.mode = "unavailable"
        clock.advance(seconds=30)  # past the renewal window
        await pilot.press("k")
        keep = app.kept[first.key]
        keep.keeper.retry_after = 0.2  # retries must not repeat the notice
        await wait_for(pilot, lambda: any("could not renew" in n for n in notifications(app)))
        await wait_for(pilot, lambda: len(fake_sts.requests) >= 4)
        await pilot.pause(0.2)
        failures = [n for n in notifications(app) if "could not renew" in n]
        assert len(failures) == 1, failures
        assert "keeping the current session until" in failures[0]
        assert panel.sessions == [first]
        assert "⟳ kept" in row_text(app)
        clock.advance(hours=9)
        app.tick()
        await pilot.pause()
        text = row_text(app)
        assert "expired" in text and "renewal failed:" in text and "unavailable" in text.lower()


async def test_a_renewal_that_needs_mfa_asks_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    messages: list[Message] = []
    app = build_app(tmp_path, sts.url, monkeypatch, clock=RealClock())
    app.renew_before = 3600 - 2
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await go_to(pilot, "security-audit/Auditor")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MfaScreen))
        await pilot.press(*"123456", "enter")
        panel = app.query_one(SessionsPanel)
        await wait_for(pilot, lambda: bool(panel.sessions))
        first = panel.sessions[0].session
        # The cached hub hop is gone: the next renewal needs a new MFA code.
        role = app.workspace.catalogue.get("security-audit/Auditor")
        assert role is not None
        hub = app.workspace.assumer.plan(role, AssumeOptions()).hops[0]
        app.workspace.cache.forget(hub.key)
        app.tick()  # the hub hop's row goes with its cache file
        await pilot.press("k")
        app.kept[panel.sessions[0].key].keeper.retry_after = 0.2
        await wait_for(pilot, lambda: isinstance(app.screen, MfaScreen))
        calls = len(sts.calls())
        await pilot.pause(1)  # several failed retries meanwhile: still one question
        assert sum(isinstance(s, MfaScreen) for s in app.screen_stack) == 1
        assert len(sts.calls()) == calls, "nothing reaches STS while the question is open"
        await pilot.press(*"654321", "enter")
        await wait_for(pilot, lambda: panel.sessions[0].session.expiration > first.expiration)
        assert "⟳ kept" in row_text(app)
        assert any(c.params.get("TokenCode") == "654321" for c in sts.calls())
        asked = [m for m in messages if isinstance(m, Keep.NeedsInput)]
        assert len(dict.fromkeys(asked)) == 1


async def test_cancelling_the_mfa_question_stops_keeping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch, clock=RealClock())
    app.renew_before = 3600 - 1
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "security-audit/Auditor")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MfaScreen))
        await pilot.press(*"123456", "enter")
        panel = app.query_one(SessionsPanel)
        await wait_for(pilot, lambda: bool(panel.sessions))
        role = app.workspace.catalogue.get("security-audit/Auditor")
        assert role is not None
        hub = app.workspace.assumer.plan(role, AssumeOptions()).hops[0]
        app.workspace.cache.forget(hub.key)
        app.tick()  # the hub hop's row goes with its cache file
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, MfaScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: any("no MFA code given" in n for n in notifications(app)))
        assert app.kept == {}
        assert "kept" not in row_text(app)
        assert len(panel.sessions) == 1


FAKE_SHELL = """#!{python}
import json, os, urllib.request
token = open(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).read()
request = urllib.request.Request(
    os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], headers={{"Authorization": token}}
)
got = json.loads(urllib.request.urlopen(request, timeout=5).read())
names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
         "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_CONFIG_FILE", "ROLECALL_TARGET")
seen = {{name: os.environ.get(name) for name in names}}
with open({out!r}, "w") as out:
    json.dump({{"got": got, "env": seen, "config": open(seen["AWS_CONFIG_FILE"]).read()}}, out)
"""


class RunningLaunches(Launches):
    """Runs the child for real, and notes what the sessions panel said meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.app: RolecallApp | None = None
        self.markers: list[str] = []

    def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> int:
        if self.app is not None:  # called on the event loop: the widgets may be read
            self.markers.append(self.app.query_one(SessionRow).kept)
        self.calls.append((list(argv), dict(env)))
        return run_child(argv, env)


async def test_s_with_a_credential_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    out = tmp_path / "shell-saw.json"
    shell = tmp_path / "fake-shell"
    shell.write_text(FAKE_SHELL.format(python=sys.executable, out=str(out)))
    shell.chmod(0o755)
    config = tmp_path / "rolecall" / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_text("[tui]\nshell_server = true\n")
    launches = RunningLaunches()
    app = build_app(
        tmp_path, sts.url, monkeypatch, launches=launches, extra_env={"SHELL": str(shell)}
    )
    launches.app = app
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, "payments-dev/Developer")
        await pilot.press("s")  # no session yet: assume, then the served shell
        await wait_for(pilot, lambda: any("exited (0)" in n for n in notifications(app)))
        (active,) = app.query_one(SessionsPanel).sessions
        assert launches.markers == ["⟳ kept · serving shell"]
        assert app.kept == {}, "the keeper lived as long as the shell"
        assert app.query_one(SessionRow).kept == ""
    saw = json.loads(out.read_text())
    assert saw["got"]["AccessKeyId"] == active.session.credentials.access_key_id
    env = saw["env"]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        assert env[name] is None, name
    assert env["ROLECALL_TARGET"] == "payments-dev/Developer"
    assert not Path(env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).exists()
    assert not Path(env["AWS_CONFIG_FILE"]).exists()
    assert list((app.workspace.locations.cache_dir / "servers").iterdir()) == []
    entries = list(app.workspace.journal.entries())
    assert [e["event"] for e in entries] == ["assume", "shell"]
    assert entries[-1].get("server") is True
