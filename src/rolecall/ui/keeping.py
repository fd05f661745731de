"""Keeping sessions alive (`k`) and the shell with a credential server (`s` with
`[tui] shell_server = true`).

A kept session has a `SessionKeeper` renewing it in a background thread, with the windows of
`rolecall exec --server`. That thread never touches a widget: `Keep` posts `Keep.Renewed`,
`Keep.Failed` and `Keep.NeedsInput` to the app, which updates the sessions panel, says a
failure once, and asks once, in a modal, for the MFA code or the sign-in a renewal needs (the
keeper goes on holding the valid session meanwhile; a server never waits on the question).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from textual import on, work
from textual.app import App
from textual.message import Message

from rolecall.core.credentials import Session
from rolecall.core.errors import RolecallError, UsageError
from rolecall.core.sts.errors import MfaRequired
from rolecall.core.text import inert
from rolecall.core.workspace import ActiveSession
from rolecall.ui.session_actions import SessionActionsApp
from rolecall.ui.widgets.sessions_panel import SessionsPanel

KEPT = "⟳ kept"
"""The sessions panel's marker for a kept session."""


def needs_someone() -> tuple[type[RolecallError], ...]:
    """Renewal failures that a person can fix (asked once, in a modal)."""
    # Deferred: the Identity Center token cache (hashlib, json) is not needed for the first frame.
    from rolecall.core.lifecycle.sso_errors import SsoSignInRequired

    return (MfaRequired, SsoSignInRequired)


class Keep:
    """One kept session: its keeper, the renew function, and what the panel says of it."""

    class Renewed(Message):
        """The keeper renewed a kept session."""

        def __init__(self, key: str, session: Session) -> None:
            super().__init__()
            self.key = key
            """The session's cache key."""
            self.session = session
            """The new session."""

    class Failed(Message):
        """A renewal failed (posted once per run of failures)."""

        def __init__(self, key: str, text: str) -> None:
            super().__init__()
            self.key = key
            """The session's cache key."""
            self.text = text
            """What failed and until when the current session lasts."""

    class NeedsInput(Message):
        """A renewal needs an MFA code or an Identity Center sign-in (posted once)."""

        def __init__(self, key: str, error: RolecallError) -> None:
            super().__init__()
            self.key = key
            """The session's cache key."""
            self.error = error
            """`MfaRequired` or `SsoSignInRequired`."""

    def __init__(
        self,
        app: App[Any],
        active: ActiveSession,
        renew: Callable[[str | None], Session],
        window: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.active = active
        """The session as the panel shows it (replaced at each renewal)."""
        self.serving: str | None = None
        """The child a credential server serves this session to (`shell`), if any."""
        self.asking = False
        """A question for the user is pending (set in the keeper's thread, cleared here)."""
        self._app = app
        self._renew = renew
        self._renewing = threading.Lock()
        from rolecall.core.lifecycle.renewal import SessionKeeper  # deferred: first keep

        self.keeper = SessionKeeper(
            active.session,
            self._renew_in_background,
            window,
            notify=self._failed,
            on_renewed=self._renewed,
            clock=clock,
        )
        """Renews the session in a background thread."""

    @property
    def key(self) -> str:
        """The session's cache key."""
        return self.active.key

    @property
    def marker(self) -> str:
        """What the sessions panel shows beside the session."""
        return KEPT + (f" · serving {self.serving}" if self.serving else "")

    def renew_with(self, mfa_code: str | None) -> Session:
        """Renew now (blocking), e.g. with the MFA code the user just gave."""
        with self._renewing:
            return self._renew(mfa_code)

    # -- in the keeper's thread: messages only --

    def _renew_in_background(self) -> Session:
        try:
            return self.renew_with(None)
        except needs_someone() as needed:
            if not self.asking:
                self.asking = True
                self._app.post_message(self.NeedsInput(self.key, needed))
            raise

    def _failed(self, text: str) -> None:
        if not self.asking:  # the question says it better than a notice would
            self._app.post_message(self.Failed(self.key, text))

    def _renewed(self, session: Session) -> None:
        self._app.post_message(self.Renewed(self.key, session))


class KeepingApp(SessionActionsApp):
    """Sessions kept alive in the background, and shells served by a credential server."""

    renew_before: int | None = None
    """Seconds before expiry to renew kept sessions (None: `renew_window`'s default; tests
    set a short one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kept: dict[str, Keep] = {}
        """Kept sessions by cache key."""

    # -- k --

    def action_keep(self) -> None:
        """Keep the current session alive, or stop keeping it."""
        active = self.current_session() or self.query_one(SessionsPanel).current()
        if active is None:
            self.notify("No session to keep alive.", severity="warning")
            return
        target = inert(active.session.target)
        keep = self.kept.get(active.key)
        if keep is not None:
            self.stop_keeping(keep, f"Stopped keeping {target} alive.")
            return
        keep = self.start_keeping(active)
        if keep is not None:
            left = keep.keeper.renew_before
            self.notify(
                f"Keeping {target} alive: renewed {left // 60}m{left % 60:02d}s before expiry.",
                markup=False,
            )

    def start_keeping(self, active: ActiveSession) -> Keep | None:
        """Start renewing `active` in the background (None, with a notice, if it cannot)."""
        target = inert(active.session.target)
        if active.session.remaining(self.clock()) <= 0:
            self.notify(f"{target} has expired: assume it again.", severity="warning", markup=False)
            return None
        from rolecall.core.lifecycle.renewal import renew_window  # deferred: first keep

        session = active.session
        length = int((session.expiration - session.issued_at).total_seconds())
        try:
            window = renew_window(length, self.renew_before)
        except UsageError:  # too long for this session: the default window
            window = renew_window(length)
        renew = self.workspace.renewer(active, window)
        if renew is None:
            self.notify(
                f"{target} is no longer in the catalogue.", severity="warning", markup=False
            )
            return None
        keep = Keep(self, active, renew, window, self.clock)
        self.kept[active.key] = keep
        keep.keeper.start()
        self._show_keep(keep)
        return keep

    def stop_keeping(self, keep: Keep, text: str | None) -> None:
        """Stop renewing `keep` (its thread is joined off the event loop) and say `text`."""
        if self.kept.get(keep.key) is keep:
            del self.kept[keep.key]
        self.run_worker(keep.keeper.stop, thread=True, group="keeping", exit_on_error=False)
        self.query_one(SessionsPanel).keeping(keep.key, "", None, self.clock())
        if text:
            self.notify(text, markup=False)

    def stop_every_keeper(self) -> None:
        """The app is ending: stop every background renewal."""
        for keep in list(self.kept.values()):
            keep.keeper.stop()
        self.kept.clear()

    def _show_keep(self, keep: Keep) -> None:
        panel = self.query_one(SessionsPanel)
        panel.keeping(keep.key, keep.marker, keep.keeper.failure, self.clock())

    def tick(self) -> None:
        for keep in self.kept.values():
            self._show_keep(keep)
        super().tick()

    def sessions_gone(self, gone: list[ActiveSession]) -> None:
        """Forgotten elsewhere: stop keeping them alive too."""
        for active in gone:
            keep = self.kept.get(active.key)
            if keep is not None:
                self.stop_keeping(keep, None)
        super().sessions_gone(gone)

    def action_forget(self) -> None:
        active = self.current_session() or self.query_one(SessionsPanel).current()
        keep = self.kept.get(active.key) if active else None
        if keep is not None:
            self.stop_keeping(keep, None)
        super().action_forget()

    # -- what the keepers say --

    @on(Keep.Renewed)
    def kept_session_renewed(self, event: Keep.Renewed) -> None:
        keep = self.kept.get(event.key)
        if keep is None:
            return  # stopped meanwhile
        keep.active = keep.active._replace(session=event.session)
        panel = self.query_one(SessionsPanel)
        panel.replace(keep.active, self.clock())
        self._show_keep(keep)
        self._mark_active()
        self.notify(f"Renewed {inert(event.session.target)} (kept alive).", markup=False)

    @on(Keep.Failed)
    def kept_session_failed(self, event: Keep.Failed) -> None:
        keep = self.kept.get(event.key)
        if keep is None:
            return
        self._show_keep(keep)
        self.notify(
            inert(event.text), title="Renewal failed", severity="warning", timeout=12, markup=False
        )

    @on(Keep.NeedsInput)
    def kept_session_needs_input(self, event: Keep.NeedsInput) -> None:
        keep = self.kept.get(event.key)
        if keep is not None:
            self.ask_for_renewal(keep, event.error)

    @work(group="keeping", exit_on_error=False)
    async def ask_for_renewal(self, keep: Keep, needed: RolecallError) -> None:
        """Ask once for what the renewal needs; on cancel, stop keeping the session."""
        target = inert(keep.active.session.target)
        code: str | None = None
        if isinstance(needed, MfaRequired):
            from rolecall.ui.screens.modals import MfaScreen  # deferred: not in the first frame

            hint = f"Renewing the kept session {target}: an earlier hop has expired."
            code = await self.push_screen_wait(
                MfaScreen(needed.serial, needed.target, hint, self.presenter)
            )
            if code is None:
                self.stop_keeping(keep, f"Stopped keeping {target} alive: no MFA code given.")
                return
        else:  # the same sign-in dialogs as an assume's
            role = self.role_of(keep.active)
            doing = f"Renewing the kept session {target}"
            if role is None or not await self.sign_in_or_report(
                role, needed, doing, declining="stop keeping it alive"
            ):
                self.stop_keeping(keep, f"Stopped keeping {target} alive: not signed in.")
                return
        if self.kept.get(keep.key) is not keep:
            return
        try:
            await self._in_thread(partial(keep.renew_with, code))
        except RolecallError as error:
            self.show_error(error)
            self.stop_keeping(keep, f"Stopped keeping {target} alive.")
            return
        keep.asking = False
        keep.keeper.wake()  # it takes the fresh session from the cache and says so

    # -- s with a credential server --

    def launch_shell(self, active: ActiveSession) -> None:
        """With `[tui] shell_server`, the shell gets a credential server (keeper + server live
        while it runs); otherwise keys, as before."""
        if not self.workspace.settings.tui.shell_server:
            super().launch_shell(active)
            return
        keep = self.kept.get(active.key)
        temporary = keep is None
        keep = keep or self.start_keeping(active)
        if keep is None:
            return
        keep.serving = "shell"
        self._show_keep(keep)
        served = keep.active
        try:
            status = self.run_shell(
                served,
                partial(
                    self.workspace.shell_with_server,
                    served,
                    keep.keeper.current,
                    lambda: keep.keeper.failure,
                ),
            )
        finally:
            keep.serving = None
            if temporary:
                self.stop_keeping(keep, None)
            else:
                self._show_keep(keep)
        self.shell_ended(served, status, "; its credential server has stopped")
