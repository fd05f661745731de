"""The TUI in step with the command line: the sessions panel shows the session cache as it
is (sessions made, renewed or forgotten by any process, hub hops included, most urgent
first), a forgotten session is never used again, and `s` and `w` give the child exactly the
environment `rolecall exec` would."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from rolecall.core.shell_env import child_environment
from rolecall.core.sts.planner import AssumeOptions
from rolecall.ui.screens.modals import MfaScreen
from rolecall.ui.widgets.sessions_panel import HUB, SessionsPanel
from tests.aws import FakeSts
from tests.functional.tui_support import (
    FakeClock,
    Launches,
    another_process,
    build_app,
    until,
)

SIZE = (150, 40)


def notices(app: object) -> list[str]:
    return [n.message for n in app._notifications]  # type: ignore[attr-defined]


def shown(panel: SessionsPanel) -> list[str]:
    return [active.session.target for active in panel.sessions]


async def test_the_panel_follows_sessions_other_processes_make_renew_and_forget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    clock = FakeClock()
    app = build_app(tmp_path, fake_sts.url, monkeypatch, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(SessionsPanel)
        await pilot.pause()
        assert panel.sessions == []
        other = another_process(app)
        catalogue = other.catalogue
        # `rolecall env payments-dev/ReadOnly` (1h) and `... Developer` (8h) elsewhere
        readonly = other.assume(catalogue.resolve("payments-dev/ReadOnly"), AssumeOptions())
        developer = other.assume(catalogue.resolve("payments-dev/Developer"), AssumeOptions())
        app.tick()
        await pilot.pause()
        assert shown(panel) == ["payments-dev/ReadOnly", "payments-dev/Developer"]  # by time left
        assert app.query_one("CatalogueList").active == {  # type: ignore[attr-defined]
            "payments-dev/ReadOnly",
            "payments-dev/Developer",
        }
        # renewed elsewhere: the same row, the new session
        longer = readonly.session._replace(
            credentials=readonly.session.credentials._replace(
                access_key_id="ASIARENEWEDELSEWHERE",
                expiration=readonly.session.expiration + timedelta(hours=9),
            )
        )
        other.cache.put(readonly.key, longer, 3600)
        app.tick()
        await pilot.pause()
        assert shown(panel) == ["payments-dev/Developer", "payments-dev/ReadOnly"]
        assert panel.sessions[1].session.credentials.access_key_id == "ASIARENEWEDELSEWHERE"
        # forgotten elsewhere: the row goes, and the app says so
        other.forget(developer)
        app.tick()
        await pilot.pause()
        assert shown(panel) == ["payments-dev/ReadOnly"]
        assert any("payments-dev/Developer was forgotten" in n for n in notices(app))
        # nothing changed: one stat, no reading
        reads: list[object] = []

        def entries() -> Iterator[object]:
            reads.append(1)
            return iter(())

        monkeypatch.setattr(app.workspace.cache, "entries", entries)
        app.workspace._watch._recent = False  # the last change is older than the clock's grain
        app.tick()
        assert reads == []


async def test_a_forgotten_session_gives_no_shell_link_or_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    launches = Launches()
    app = build_app(
        tmp_path, fake_sts.url, monkeypatch, launches=launches, extra_env={"TMUX": "/tmp/t,1,0"}
    )
    async with app.run_test(size=SIZE) as pilot:
        app.select_target("payments-dev/Developer")
        panel = app.query_one(SessionsPanel)
        for number, key in enumerate(("s", "w", "y", "c"), start=1):
            await pilot.press("enter")
            await until(pilot, lambda: bool(panel.sessions))
            (active,) = panel.sessions
            another_process(app).forget(active)  # `rolecall forget` in another shell
            app.clear_notifications()
            await pilot.press(key)
            await until(pilot, lambda: not panel.sessions)  # the row goes at once
            assert any("was forgotten: assume it again" in n for n in notices(app)), key
            assert launches.calls == [], key
            assert app.clipboard == "", key
            assert len(fake_sts.calls()) == number, "the key itself assumed nothing"


async def test_the_hub_hop_of_a_chain_has_a_row_and_a_dot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    app = build_app(tmp_path, fake_sts.url, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        app.select_target("security-audit/Auditor")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MfaScreen))
        await pilot.press(*"123456", "enter")
        panel = app.query_one(SessionsPanel)
        await until(pilot, lambda: len(panel.sessions) == 2)
        hub = next(r for r in panel.rows if r.active.session.target == "identity/OrgAccess")
        assert hub.hub and HUB in str(hub.render())
        auditor = next(r for r in panel.rows if r is not hub)
        assert not auditor.hub
        assert "identity/OrgAccess" in app.query_one("CatalogueList").active  # type: ignore[attr-defined]


async def test_s_gives_the_shell_the_exec_environment_a_banner_and_says_a_failed_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    launches = Launches(status=127)
    demo = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "ROLECALL_DEMO": "1", "AWS_PROFILE": "x"}
    app = build_app(tmp_path, fake_sts.url, monkeypatch, launches=launches, extra_env=demo)
    written: list[str] = []
    monkeypatch.setattr(type(app), "is_headless", property(lambda self: False))
    monkeypatch.setattr(
        sys, "__stderr__", type("W", (), {"write": written.append, "flush": lambda s: None})()
    )
    async with app.run_test(size=SIZE) as pilot:
        app.select_target("payments-dev/Developer")
        await pilot.press("s")  # no session yet: assume, then the shell
        await until(pilot, lambda: bool(launches.calls))
        (active,) = app.query_one(SessionsPanel).sessions
        _, env = launches.calls[0]
        assert env == child_environment(app.workspace.env, active.session)
        assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9" and "AWS_PROFILE" not in env
        await until(pilot, lambda: any("did not start" in n for n in notices(app)))
    out = "".join(written)
    assert "rolecall: arn:aws:sts::222222222222:assumed-role/Developer/alice@laptop until" in out
    assert "\x1b]2;rolecall: payments-dev/Developer" in out
    assert out.index("\x1b[22;2t") < out.index("\x1b]2;") < out.index("\x1b[23;2t")


async def test_w_hands_the_window_the_exec_environment_through_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    dump = tmp_path / "child-env.json"
    shell = tmp_path / "fake-shell"
    shell.write_text(
        f"#!{sys.executable}\nimport json, os\n"
        f"json.dump(dict(os.environ), open({str(dump)!r}, 'w'))\n"
    )
    shell.chmod(0o755)
    launches = Launches()
    extra = {
        "TMUX": "/tmp/t,1,0",
        "SHELL": str(shell),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "USER_THING": "kept as is",
    }
    app = build_app(tmp_path, fake_sts.url, monkeypatch, launches=launches, extra_env=extra)
    async with app.run_test(size=SIZE) as pilot:
        app.select_target("payments-dev/Developer")
        await pilot.press("enter")
        panel = app.query_one(SessionsPanel)
        await until(pilot, lambda: bool(panel.sessions))
        (active,) = panel.sessions
        await pilot.press("w")
        await until(pilot, lambda: bool(launches.calls))
    ((argv, _),) = launches.calls
    assert argv[:4] == ["tmux", "new-window", "-n", "payments-dev/Developer"]
    command = argv[4]
    secrets = (fake_sts.secret, fake_sts.token, fake_sts.access_key_id, "kept as is")
    assert not any(s in " ".join(argv) for s in secrets), "nothing secret on tmux's argv"
    request = Path(command.rsplit(" ", 1)[-1])
    assert request.stat().st_mode & 0o777 == 0o600
    assert fake_sts.secret not in request.read_text()  # the session comes from the cache
    child = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )
    assert child.returncode == 0, child.stderr
    assert not request.exists()
    assert "rolecall: arn:aws:sts::222222222222:assumed-role/Developer/alice@laptop" in child.stderr
    shell_own = ("PWD", "SHLVL", "_")  # what `sh -c` itself sets

    def without_shell_own(env: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in env.items() if k not in shell_own}

    expected = child_environment(app.workspace.env, active.session)
    assert without_shell_own(json.loads(dump.read_text())) == without_shell_own(expected)
    assert list(app.workspace.journal.entries())[-1]["window"] == "tmux"


async def test_w_says_when_tmux_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    launches = Launches()
    app = build_app(
        tmp_path, fake_sts.url, monkeypatch, launches=launches, extra_env={"TMUX": "/tmp/t,1,0"}
    )
    async with app.run_test(size=SIZE) as pilot:
        app.select_target("payments-dev/Developer")
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.query_one(SessionsPanel).sessions))
        launches.status = 127
        await pilot.press("w")
        await until(
            pilot, lambda: any("No tmux window: tmux was not found" in n for n in notices(app))
        )
    windows = app.workspace.locations.cache_dir / "windows"
    assert list(windows.iterdir()) == []  # the request went with the failure
