"""What the app does with the sessions it holds: countdown notices, renew, forget, a shell,
a tmux window, the console, copying exports or a sign-in link; and the thread plumbing and
error notices those flows share."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from textual import on, work
from textual.notifications import SeverityLevel
from textual.worker import WorkerFailed

from rolecall.core.catalogue.model import Role
from rolecall.core.console import clipboard
from rolecall.core.console.clipboard import CLEAR_AFTER, ClipboardError
from rolecall.core.errors import RolecallError
from rolecall.core.sts.errors import MfaRequired
from rolecall.core.sts.planner import AssumeOptions
from rolecall.core.text import inert
from rolecall.core.workspace import ActiveSession
from rolecall.ui.browse import BrowserApp
from rolecall.ui.screens.modals import MfaScreen
from rolecall.ui.widgets.catalogue_list import CatalogueList
from rolecall.ui.widgets.sessions_panel import SessionsPanel

T = TypeVar("T")


class SessionActionsApp(BrowserApp):
    """The sessions side of the app: the panel's clock and the keys that use a session."""

    # -- blocking work and failures --

    async def _in_thread(self, call: Callable[[], T]) -> T:
        """Run a blocking call in a thread worker and await its result (errors re-raised)."""
        worker = self.run_worker(call, thread=True, exit_on_error=False, group="blocking")
        try:
            return await worker.wait()
        except WorkerFailed as failed:
            raise failed.error from None

    def show_error(self, error: RolecallError) -> None:
        """An expected failure: a sentence and a hint, never a traceback."""
        message = inert(error.message)
        if error.hint:
            message += "\n" + inert(error.hint)
        self.notify(message, title="Failed", severity="error", timeout=12, markup=False)

    # -- the clock --

    def tick(self) -> None:
        """Once a second: every countdown."""
        self.query_one(SessionsPanel).tick(self.clock())

    @on(SessionsPanel.ThresholdCrossed)
    def threshold_crossed(self, event: SessionsPanel.ThresholdCrossed) -> None:
        target = inert(event.active.session.target)
        text = {
            "expiring": f"{target}: less than 10 minutes left",
            "critical": f"{target}: less than 2 minutes left",
            "expired": f"{target}: the session has expired",
        }[event.stage]
        severity: SeverityLevel = "warning" if event.stage == "expiring" else "error"
        self.notify(text, title="Session", severity=severity, markup=False)
        if event.stage == "expired":
            self._mark_active()

    def _mark_active(self) -> None:
        now = self.clock()
        listing = self.query_one(CatalogueList)
        listing.active = {
            a.session.target
            for a in self.query_one(SessionsPanel).sessions
            if a.session.remaining(now) > 0
        }
        listing.refresh()

    # -- which session --

    def current_session(self) -> ActiveSession | None:
        """The session keys act on: the selected one in the sessions panel when it has the
        focus, else the newest live session of the highlighted role."""
        panel = self.query_one(SessionsPanel)
        if self.focused is panel:
            return panel.current()
        role = self.highlighted_role()
        now = self.clock()
        live = [
            a
            for a in panel.sessions
            if role is not None and a.session.target == role.target and a.session.remaining(now) > 0
        ]
        return live[-1] if live else None

    def role_of(self, active: ActiveSession) -> Role | None:
        """The catalogue role of a session."""
        return self.workspace.catalogue.get(active.session.target)

    # -- renew and forget --

    def action_renew(self) -> None:
        active = self.current_session() or self.query_one(SessionsPanel).current()
        if active is None:
            self.notify("No session to renew.", severity="warning")
            return
        role = self.role_of(active)
        if role is not None:
            self.renew(role, active)

    @work(group="assume", exit_on_error=False)
    async def renew(self, role: Role, active: ActiveSession) -> None:
        """Forget the cached session and assume again with the same options."""
        options = (active.options or AssumeOptions())._replace(use_cache=True, mfa_code=None)
        self.workspace.forget(active)
        while True:
            try:
                renewed = await self._in_thread(partial(self.workspace.assume, role, options))
            except MfaRequired as needed:
                hint = self.workspace.mfa_hint()
                code = await self.push_screen_wait(MfaScreen(needed.serial, needed.target, hint))
                if code is None:
                    return
                options = options._replace(mfa_code=code)
                continue
            except RolecallError as error:
                self.show_error(error)
                return
            break
        self.query_one(SessionsPanel).discard(active)
        self.query_one(SessionsPanel).add(renewed, self.clock())
        self._mark_active()
        self.notify(f"Renewed {inert(role.target)}", markup=False)

    def action_forget(self) -> None:
        active = self.current_session() or self.query_one(SessionsPanel).current()
        if active is None:
            self.notify("No session to forget.", severity="warning")
            return
        self.workspace.forget(active)
        self.query_one(SessionsPanel).discard(active)
        self.call_after_refresh(self._mark_active)
        self.notify(f"Forgot {inert(active.session.target)}", markup=False)

    # -- using a session --

    def launch_shell(self, active: ActiveSession) -> None:
        """Suspend the TUI, run the shell with the identity, and come back as we were."""
        status = self.suspended(partial(self.workspace.shell, active))
        self.refresh()
        self.notify(f"Shell for {inert(active.session.target)} exited ({status}).", markup=False)

    def suspended(self, run: Callable[[], int]) -> int:
        """Give the terminal to `run` (a child) with the TUI suspended; its exit status."""
        try:
            with self.suspend():
                return run()
        except Exception as error:  # SuspendNotSupported in headless runs, OSError...
            if type(error).__name__ != "SuspendNotSupported":
                raise
            return run()

    def action_tmux_window(self) -> None:
        active = self.current_session()
        if active is None:
            self.notify("Assume the role first, then press w.", severity="warning")
            return
        if "TMUX" not in self.workspace.env:
            self.notify("Not running inside tmux.", severity="warning")
            return
        status = self.workspace.tmux_window(active)
        if status != 0:
            self.notify(f"tmux new-window failed ({status}).", severity="error")

    @work(thread=True, group="console", exit_on_error=False)
    def open_console(self, role: Role, active: ActiveSession) -> None:
        """Make a fresh sign-in link and hand it to the browser (in a thread)."""
        try:
            link = self.workspace.console_link(role, active)
            opened = self.workspace.open_console(role, link)
        except RolecallError as error:
            self.call_from_thread(self.show_error, error)
            return
        text = "Console opened" if opened else "The browser did not open the link within 60 s"
        self.call_from_thread(self.notify, f"{text} for {inert(role.target)}", markup=False)

    # -- copying --

    def action_copy_exports(self) -> None:
        active = self.current_session()
        if active is None:
            self.notify("Assume the role first, then press y.", severity="warning")
            return
        self.copy_secret(self.workspace.exports(active), "Exports (they hold the secret key)")

    def action_copy_console_link(self) -> None:
        """Copy a fresh console sign-in link, cleared again after 60 s."""
        active = self.current_session()
        role = self.role_of(active) if active else None
        if active is None or role is None:
            self.notify("Assume the role first.", severity="warning")
            return
        self.copy_console_link(role, active)

    @work(thread=True, group="console", exit_on_error=False)
    def copy_console_link(self, role: Role, active: ActiveSession) -> None:
        """Make the link in a thread, then copy it; it is valid for 15 minutes."""
        try:
            link = self.workspace.console_link(role, active)
        except RolecallError as error:
            self.call_from_thread(self.show_error, error)
            return
        what = f"Console link for {inert(role.target)} (valid for 15 minutes)"
        self.call_from_thread(self.copy_secret, link, what)

    def copy_secret(self, text: str, what: str) -> None:
        """Copy `text` for a minute: through the terminal (OSC 52), or inside tmux through a
        clipboard tool, because tmux keeps terminal copies in paste buffers nothing clears."""
        if "TMUX" in self.workspace.env:
            self.copy_with_tool(text, what)
            return
        self.copy_to_clipboard(text)
        self.set_timer(CLEAR_AFTER, lambda: self.copy_to_clipboard(""))
        self.notify(
            f"{what} copied; the clipboard is cleared in {CLEAR_AFTER} s if rolecall is "
            "still running.",
            markup=False,
        )

    @work(thread=True, group="clipboard", exit_on_error=False)
    def copy_with_tool(self, text: str, what: str) -> None:
        """The system clipboard tool, and the detached clearer that outlives the app."""
        try:
            clipboard.copy_for_a_while(text)
        except ClipboardError as error:
            self.call_from_thread(
                self.notify,
                "Not copied: inside tmux a terminal copy would stay in tmux's paste buffers, "
                f"and {inert(error.message)}",
                title="Failed",
                severity="error",
                timeout=12,
                markup=False,
            )
            return
        self.call_from_thread(
            self.notify,
            f"{what} copied; the clipboard is cleared in {CLEAR_AFTER} s.",
            markup=False,
        )
