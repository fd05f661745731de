"""Signing in to IAM Identity Center from the TUI, when an assume or a renewal needs it; and
the error notice every flow shares.

The assumer never asks anyone: a token that is missing or expired and cannot be refreshed
silently comes back as `SsoSignInRequired`. `sign_in_to_continue` then offers the sign-in in
a modal, runs it in a thread worker (the browser with PKCE, or a device code: chosen, or the
only one possible with no display or under SSH) while a second modal says what to do, with a
countdown and Cancel, and tells the flow whether it may go on. Cancel (or the app ending)
sets the sign-in's event, which stops the browser wait or the polling within 0.1 s.

The Identity Center modules are imported when a sign-in is needed, not for the first frame
(the assume that raised `SsoSignInRequired` has loaded them by then).
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

from textual.worker import WorkerFailed

from rolecall.core.catalogue.model import Role
from rolecall.core.errors import RolecallError
from rolecall.core.text import inert
from rolecall.ui.browse import BrowserApp

if TYPE_CHECKING:
    from rolecall.core.lifecycle.sso_errors import SsoSignInRequired
    from rolecall.core.lifecycle.sso_signin import SignInPrompt
    from rolecall.ui.screens.sign_in import SignInProgressScreen


class SigningInApp(BrowserApp):
    """The app's IAM Identity Center sign-ins, asked in modals and run in threads."""

    def show_error(self, error: RolecallError) -> None:
        """An expected failure: a sentence and a hint, never a traceback."""
        message = inert(error.message)
        if error.hint:
            message += "\n" + inert(error.hint)
        self.notify(message, title="Failed", severity="error", timeout=12, markup=False)

    async def sign_in_or_report(
        self, role: Role, error: RolecallError, doing: str, declining: str = "cancel"
    ) -> bool:
        """`error` ended an assume or a renewal of `role`: when it is a sign-in that is
        needed, offer it (True: signed in, go on); otherwise tell it (False)."""
        from rolecall.core.lifecycle.sso_errors import SsoSignInRequired

        if isinstance(error, SsoSignInRequired):
            return await self.sign_in_to_continue(role, error, doing, declining)
        self.show_error(error)
        return False

    async def sign_in_to_continue(
        self, role: Role, needed: SsoSignInRequired, doing: str, declining: str = "cancel"
    ) -> bool:
        """Offer the sign-in `needed` for `role` (`doing` says what waits for it), run it with
        its progress dialog, and say whether it succeeded (failures are told here).

        Call it from an async worker: it awaits the dialogs."""
        from rolecall.core.lifecycle.sso_errors import SsoCancelled
        from rolecall.core.lifecycle.sso_signin import wants_device_code
        from rolecall.ui.screens.sign_in import SignInScreen

        start_url = needed.source.start_url if needed.source else "its start URL"
        device = self.workspace.sso_device_code or wants_device_code(self.workspace.env)
        offer = SignInScreen(
            start_url, f"{doing}: {needed.message}", device, self.presenter, declining
        )
        chosen = await self.push_screen_wait(offer)
        if chosen is None:
            return False
        cancel = threading.Event()
        shown: list[SignInProgressScreen] = []

        def tell(prompt: SignInPrompt) -> None:  # in the sign-in thread
            self.call_from_thread(self._show_progress, prompt, start_url, cancel, shown)

        sign_in = partial(
            self.workspace.sign_in, role, tell, use_device_code=chosen == "device", cancel=cancel
        )
        worker = self.run_worker(
            sign_in, name="sign-in", group="sign-in", thread=True, exit_on_error=False
        )
        try:
            signed_in = await worker.wait()
        except WorkerFailed as failed:
            if isinstance(failed.error, SsoCancelled):
                self.notify("Sign-in to IAM Identity Center cancelled.", severity="warning")
            elif isinstance(failed.error, RolecallError):
                self.show_error(failed.error)
            else:
                raise failed.error from None
            return False
        finally:
            cancel.set()  # the app may be ending: never leave the thread polling
            for screen in shown:
                if self.screen is screen:
                    screen.dismiss(None)
        if signed_in:
            self.notify(f"Signed in to IAM Identity Center ({inert(start_url)}).", markup=False)
        return bool(signed_in)

    def _show_progress(
        self,
        prompt: SignInPrompt,
        start_url: str,
        cancel: threading.Event,
        shown: list[SignInProgressScreen],
    ) -> None:
        from rolecall.ui.screens.sign_in import SignInProgressScreen

        if cancel.is_set():
            return
        screen = SignInProgressScreen(
            prompt, start_url, cancel, self.clock, self.presenter, self.workspace.sign_in_note
        )
        shown.append(screen)
        self.push_screen(screen)
