"""What the app does with the sessions it holds: keeping the panel in step with the session
cache, countdown notices, renew, forget, a shell, a tmux window, the console, copying exports
or a sign-in link; and the thread plumbing those flows share.

Another process may forget or renew a session at any time: every use (shell, window, link,
copy) takes the session from the cache first. An Identity Center sign-in a renewal needs is
offered (`signing_in`), then the renewal goes on."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from textual import on, work
from textual.notifications import SeverityLevel
from textual.worker import WorkerFailed

from rolecall.core.catalogue.model import Role
from rolecall.core.errors import RolecallError
from rolecall.core.sts.errors import MfaRequired
from rolecall.core.text import inert
from rolecall.core.workspace import ActiveSession
from rolecall.ui.signing_in import SigningInApp
from rolecall.ui.widgets.catalogue_list import CatalogueList
from rolecall.ui.widgets.sessions_panel import SessionsPanel

if TYPE_CHECKING:
    from rolecall.core.sts.planner import AssumeOptions

T = TypeVar("T")

NOT_STARTED = {127: "was not found", 126: "could not be run"}
"""Exit statuses that mean the program never started (as a shell reports them)."""


class SessionActionsApp(SigningInApp):
    """The sessions side of the app: the panel's clock and the keys that use a session."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.renewing: set[str] = set()
        """Cache keys being renewed with `r` (forgotten, then assumed again)."""

    # -- blocking work and failures --

    async def _in_thread(self, call: Callable[[], T]) -> T:
        """Run a blocking call in a thread worker and await its result (errors re-raised)."""
        worker = self.run_worker(call, thread=True, exit_on_error=False, group="blocking")
        try:
            return await worker.wait()
        except WorkerFailed as failed:
            raise failed.error from None

    # -- the clock and the cache --

    def tick(self) -> None:
        """Once a second: the cache as it is now, then every countdown."""
        self.sync_sessions()
        self.query_one(SessionsPanel).tick(self.clock())

    def sync_sessions(self) -> None:
        """Show the session cache as it is (sessions new, renewed or forgotten by any
        process, hub hops included); one `stat` when nothing changed."""
        cached = self.workspace.session_changes()
        if cached is None:
            return
        panel = self.query_one(SessionsPanel)
        panel.hubs = self.workspace.hub_hops(cached)
        gone = [a for a in panel.sync(cached, self.clock()) if a.key not in self.renewing]
        if gone:
            self.sessions_gone(gone)
        self._mark_active()

    def sessions_gone(self, gone: list[ActiveSession]) -> None:
        """Sessions another process forgot: say so."""
        for active in gone:
            self.notify(f"{inert(active.session.target)} was forgotten.", markup=False)

    def fresh(self, active: ActiveSession) -> ActiveSession | None:
        """`active` as the cache holds it now, before a shell, a link or a copy uses it;
        None (and said) when it was forgotten, by any process, or has expired."""
        found = self.workspace.still_cached(active)
        if found is not None:
            return found
        target = inert(active.session.target)
        if active.session.remaining(self.clock()) <= 0:
            self.notify(f"{target} has expired: assume it again.", severity="warning", markup=False)
        else:
            self.query_one(SessionsPanel).discard(active)
            self.call_after_refresh(self._mark_active)
            self.notify(
                f"{target} was forgotten: assume it again.", severity="warning", markup=False
            )
        return None

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
        from rolecall.core.sts.planner import AssumeOptions  # deferred: not in the first frame

        options = (active.options or AssumeOptions())._replace(use_cache=True, mfa_code=None)
        self.workspace.forget(active)
        self.renewing.add(active.key)  # its file is gone meanwhile: not "forgotten"
        try:
            await self._renew(role, active, options)
        finally:
            self.renewing.discard(active.key)

    async def _renew(self, role: Role, active: ActiveSession, options: AssumeOptions) -> None:
        while True:
            try:
                renewed = await self._in_thread(partial(self.workspace.assume, role, options))
            except MfaRequired as needed:
                from rolecall.ui.screens.modals import MfaScreen  # deferred: first frame

                hint = self.workspace.mfa_hint()
                code = await self.push_screen_wait(
                    MfaScreen(needed.serial, needed.target, hint, self.presenter)
                )
                if code is None:
                    return
                options = options._replace(mfa_code=code)
                continue
            except RolecallError as error:
                if await self.sign_in_or_report(role, error, f"Renewing {inert(role.target)}"):
                    continue  # signed in to IAM Identity Center: renew now
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
        status = self.run_shell(active, partial(self.workspace.shell, active))
        self.shell_ended(active, status)

    def run_shell(self, active: ActiveSession, run: Callable[[], int]) -> int:
        """Give the terminal to a shell for `active`: the banner `rolecall shell` prints, the
        identity in the terminal title while it runs (the old title back after)."""
        from rolecall.ui.shell_start import POP_TITLE, banner, title  # deferred: first shell

        session = active.session

        def shell() -> int:
            self.to_terminal(title(session, self.presenter) + banner(session, self.presenter))
            try:
                return run()
            finally:
                self.to_terminal(POP_TITLE)

        return self.suspended(shell)

    def shell_ended(self, active: ActiveSession, status: int, more: str = "") -> None:
        """Say how the shell ended, or that it never started."""
        self.refresh()
        target = inert(active.session.target)
        if status in NOT_STARTED:
            shell = inert(self.workspace.env.get("SHELL") or "/bin/sh")
            self.notify(
                f"The shell for {target} did not start: {shell} {NOT_STARTED[status]}.",
                title="Failed",
                severity="error",
                markup=False,
            )
            return
        self.notify(f"Shell for {target} exited ({status}){more}.", markup=False)

    def to_terminal(self, text: str) -> None:
        """Write to the real terminal (the TUI is suspended); nothing in a headless run."""
        stream = sys.__stderr__
        if self.is_headless or stream is None:
            return
        stream.write(text)
        stream.flush()

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
        """A new tmux window with a shell for the current session, with exactly the
        environment `s` gives (handed over in a private file, never on tmux's argv)."""
        active = self.current_session()
        if active is None:
            self.notify("Assume the role first, then press w.", severity="warning")
            return
        if "TMUX" not in self.workspace.env:
            self.notify("Not running inside tmux.", severity="warning")
            return
        active = self.fresh(active)
        if active is None:
            return
        from rolecall.ui.shell_start import hand_off, window_command  # deferred: first window

        locations = self.workspace.locations
        request = hand_off(
            locations.cache_dir / "windows",
            active.key,
            locations.sessions_dir,
            self.workspace.env,
            self.presenter,
        )
        status = self.workspace.tmux_window(active, window_command(request))
        if status != 0:
            request.unlink(missing_ok=True)
            problem = NOT_STARTED.get(status, f"failed ({status})")
            self.notify(
                f"No tmux window: tmux {problem}.", title="Failed", severity="error", markup=False
            )

    @work(thread=True, group="console", exit_on_error=False)
    def open_console(self, role: Role, active: ActiveSession) -> None:
        """Make a fresh sign-in link and hand it to the browser (in a thread)."""
        try:
            link = self.workspace.console_link(role, active)
        except RolecallError as error:
            self.call_from_thread(self.show_error, error)
            return
        # Deferred: the browser hand-off (http.server, email) is not needed for the first frame.
        from rolecall.core.console.browser import BrowserError

        try:
            opened = self.workspace.open_console(role, link)
        except BrowserError as error:
            self.call_from_thread(self.offer_link, role, link, inert(error.message))
            return
        except RolecallError as error:
            self.call_from_thread(self.show_error, error)
            return
        if opened:
            self.call_from_thread(
                self.notify, f"Console opened for {inert(role.target)}", markup=False
            )
        else:
            self.call_from_thread(
                self.offer_link, role, link, "The browser did not open the link within 60 s."
            )

    @work(group="console", exit_on_error=False)
    async def offer_link(self, role: Role, link: str, reason: str) -> None:
        """No browser took the link: offer it to copy (or to select, in a dialog)."""
        from rolecall.ui.screens.modals import LinkScreen  # deferred: not for the first frame

        what = f"Console link for {inert(role.target)} (valid for 15 minutes)"
        if await self.push_screen_wait(LinkScreen(role.target, link, reason, self.presenter)):
            self.copy_secret(link, what)

    # -- copying --

    def action_copy_exports(self) -> None:
        active = self.current_session()
        if active is None:
            self.notify("Assume the role first, then press y.", severity="warning")
            return
        active = self.fresh(active)
        if active is None:
            return
        self.copy_secret(self.workspace.exports(active), "Exports (they hold the secret key)")

    def action_copy_console_link(self) -> None:
        """Copy a fresh console sign-in link, cleared again after 60 s."""
        active = self.current_session()
        role = self.role_of(active) if active else None
        if active is None or role is None:
            self.notify("Assume the role first.", severity="warning")
            return
        active = self.fresh(active)
        if active is not None:
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
        from rolecall.core.console.clipboard import CLEAR_AFTER  # deferred: hashlib, subprocess

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
        from rolecall.core.console import clipboard
        from rolecall.core.console.clipboard import CLEAR_AFTER, ClipboardError

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
