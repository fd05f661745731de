"""Presenter mode: no account id on screen, anywhere.

One walk through every screen with presenter mode on (the main screen with sessions and a
hub hop, the MFA, confirmation, variables, sign-in, link and help dialogs, the palette, the
run-across screens, notices from assuming, keeping alive and failing) reads the composited
screen at each step and looks for any 12-digit number.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from rolecall.core.lifecycle.sso_signin import SignInPrompt
from rolecall.core.lifecycle.sso_token import SsoSource
from rolecall.ui.app import RolecallApp
from rolecall.ui.screens.modals import (
    ConfirmScreen,
    HelpScreen,
    LinkScreen,
    MfaScreen,
    VariablesScreen,
)
from rolecall.ui.screens.run_across import CommandLineScreen, RunResultsScreen
from rolecall.ui.screens.sign_in import SignInProgressScreen, SignInScreen
from rolecall.ui.widgets.sessions_panel import SessionsPanel
from tests.aws import FakeFederation, FakeSts
from tests.functional.tui_support import app_without_a_browser, screen_lines, until

ACCOUNT_ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


class Walk:
    """Checks every screen it is shown."""

    def __init__(self, app: RolecallApp, pilot: Pilot[int]) -> None:
        self.app = app
        self.pilot = pilot
        self.seen: list[str] = []

    async def check(self, where: str) -> None:
        await self.pilot.pause()
        text = "\n".join(screen_lines(self.app))
        notices = "\n".join(n.message + n.title for n in self.app._notifications)
        for shown in (text, notices):
            found = ACCOUNT_ID.search(shown)
            assert found is None, f"{where}: {found.group()} in\n{shown}"
        self.seen.append(where)

    async def leave(self) -> None:
        while len(self.app.screen_stack) > 1:
            await self.pilot.press("escape")
            await self.pilot.pause()


async def test_presenter_mode_masks_every_account_id_on_every_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    federation = FakeFederation()
    try:
        app = app_without_a_browser(tmp_path, fake_sts.url, monkeypatch, federation.url)
        async with app.run_test(size=(120, 40)) as pilot:
            walk = Walk(app, pilot)
            await until(pilot, lambda: app.caller is not None)
            await pilot.press("p")
            assert app.presenter
            await walk.check("main screen")
            for size in ((80, 24), (200, 60)):
                await pilot.resize_terminal(*size)
                await walk.check(f"main screen at {size}")
            await pilot.resize_terminal(120, 40)

            panel = app.query_one(SessionsPanel)
            app.select_target("payments-dev/Developer")
            await pilot.press("enter")
            await until(pilot, lambda: bool(panel.sessions))
            await walk.check("assumed notice and sessions")

            app.select_target("security-audit/Auditor")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, MfaScreen))
            await walk.check("MFA dialog")
            await pilot.press(*"123456", "enter")
            await until(pilot, lambda: len(panel.sessions) == 3)
            await walk.check("sessions with a hub hop")

            app.select_target("payments-prod/ReadOnly")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await walk.check("confirmation dialog")
            await pilot.press(*"wrong", "enter")
            await walk.check("confirmation dialog, wrong name")
            await walk.leave()
            await walk.check("not confirmed notice")

            app.select_target("payments-dev/Developer")
            await pilot.press("t", "enter")
            await until(pilot, lambda: isinstance(app.screen, VariablesScreen))
            await pilot.press(*"INC1")
            await walk.check("variables dialog with its preview")
            await walk.leave()
            await pilot.press("t", "t")

            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            await walk.check("help")
            await walk.leave()

            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"pay")
            await pilot.pause(0.3)
            await walk.check("palette")
            await walk.leave()

            app.select_target("payments-dev/Developer")
            await pilot.press("k")
            await walk.check("keep-alive notice")
            await pilot.press("k")

            app.push_screen(
                SignInScreen(
                    "https://d-222222222222.awsapps.com/start",
                    "arn:aws:iam::222222222222:role/Developer needs a sign-in",
                    presenter=app.presenter,
                )
            )
            await walk.check("sign-in dialog")
            await walk.leave()
            for flow in ("device", "browser"):
                prompt = SignInPrompt(
                    SsoSource("https://d-222222222222.awsapps.com/start", "eu-west-1", "corp"),
                    flow,
                    "https://oidc.eu-west-1.amazonaws.com/authorize?client_id=222222222222",
                    user_code="ABCD-EFGH",
                    url_with_code="https://device.example/?account=222222222222",
                    expires_in=600,
                )
                app.push_screen(
                    SignInProgressScreen(
                        prompt,
                        "https://d-222222222222.awsapps.com/start",
                        threading.Event(),
                        app.clock,
                        app.presenter,
                        "Demo note about 222222222222",
                    )
                )
                await walk.check(f"sign-in progress dialog ({flow})")
                await walk.leave()

            app.select_target("data-lake/Analyst")
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, LinkScreen))
            await walk.check("console link dialog")
            assert federation.token not in "\n".join(screen_lines(app))
            await walk.leave()

            fake_sts.mode = "access_denied"
            app.select_target("payments-dev/ReadOnly")
            await pilot.press("enter")
            await until(pilot, lambda: any(n.severity == "error" for n in app._notifications))
            await walk.check("AccessDenied error")
            fake_sts.mode = "ok"

            for target in ("payments-dev/Developer", "payments-dev/ReadOnly"):
                app.select_target(target)
                await pilot.press("space")
            app.action_run_across_marked()
            await until(pilot, lambda: isinstance(app.screen, CommandLineScreen))
            await walk.check("run-across command line")
            app.screen.query_one(
                "#argv", Input
            ).value = "sh -c 'echo $ROLECALL_ASSUMED_ROLE_ARN; echo 123456789012 >&2'"
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, RunResultsScreen), seconds=30)
            await walk.check("run-across results")
            await walk.leave()
        assert len(walk.seen) >= 19
    finally:
        federation.close()
