"""The rolecall terminal UI: browse, pick, assume, watch the clock, open a shell or console.

The app is given a `Workspace` (catalogue, STS engine, cache, journal, state) and a clock.
Blocking work (STS, the sign-in endpoint, GetCallerIdentity) runs in thread workers; dialogs
are awaited from async workers so that each flow reads top to bottom.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import WorkerFailed

from rolecall.core.catalogue.model import Role
from rolecall.core.errors import FreeVariableMissing, RolecallError
from rolecall.core.sts.assumer import AssumeOptions
from rolecall.core.sts.errors import MfaRequired
from rolecall.core.text import inert
from rolecall.core.workspace import ActiveSession, Workspace
from rolecall.ui.commands import RolecallCommands
from rolecall.ui.presenter import mask
from rolecall.ui.screens.modals import ConfirmScreen, HelpScreen, MfaScreen, VariablesScreen
from rolecall.ui.widgets.catalogue_list import CatalogueList
from rolecall.ui.widgets.role_detail import RoleDetail, TemplateChoice, template_choices
from rolecall.ui.widgets.search_input import SearchInput
from rolecall.ui.widgets.sessions_panel import SessionsPanel

T = TypeVar("T")

Clock = Callable[[], datetime]


class RolecallApp(App[int]):
    """The TUI. Build it with `make_app`."""

    CSS_PATH = "app.tcss"
    TITLE = "rolecall"
    COMMANDS = App.COMMANDS | {RolecallCommands}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="app.search"),
        Binding("enter", "assume", "Assume", id="app.assume", priority=False),
        Binding("s", "shell", "Shell", id="app.shell"),
        Binding("c", "console", "Console", id="app.console"),
        Binding("y", "copy_exports", "Copy exports", id="app.copy_exports"),
        Binding("r", "renew", "Renew", id="app.renew"),
        Binding("d", "forget", "Forget", id="app.forget"),
        Binding("f", "favourite", "Favourite", id="app.favourite"),
        Binding("t", "next_template", "Template", id="app.next_template"),
        Binding("o", "toggle_order", "Order", id="app.toggle_order"),
        Binding("p", "presenter", "Presenter", id="app.presenter"),
        Binding("w", "tmux_window", "tmux window", show=False, id="app.tmux_window"),
        Binding("tab", "focus_next", "Next pane", show=False, id="app.focus_next"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.interrupt"),
    ]

    presenter: reactive[bool] = reactive(False)
    """Mask account ids and ARNs on screen (for demos and screen sharing)."""

    caller: reactive[str | None] = reactive(None)
    """The source identity ARN of the highlighted role, once known."""

    def __init__(self, workspace: Workspace, clock: Clock, tick_seconds: float = 1.0) -> None:
        super().__init__()
        self.workspace = workspace
        """Everything the app works on."""
        self.clock = clock
        """The source of "now" for countdowns and templates (injected by tests)."""
        self.tick_seconds = tick_seconds
        self.query_text = ""
        """The current search."""
        self.variables: dict[str, str] = {}
        """Free-variable values given so far (prefilled next time)."""
        self.template_index: dict[str, int] = {}
        """Picked template per target (index into `template_choices`)."""
        self.assuming: set[str] = set()
        """Targets with an assume flow in progress."""
        self._order: list[int] = []
        self._last_search: tuple[list[str], list[int]] = ([], [])
        self._natural = True
        self._detail_shown: tuple[object, ...] | None = None
        self._position: list[int] = []
        self._callers: dict[str, str] = {}
        self._mounted_once = False
        self.hangup_hooks: list[Callable[[], None]] = []
        """Clean-up to run if the terminal disappears (the demo removes its world)."""

    # -- layout --

    def compose(self) -> ComposeResult:
        yield Static(id="identity")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield SearchInput(
                    self.search_changed,
                    placeholder="/ search: every word must match",
                    id="search",
                )
                yield CatalogueList(self.workspace.catalogue, id="catalogue")
            with Vertical(id="right"):
                yield RoleDetail(id="detail")
                yield Static("Sessions", classes="pane-title")
                yield SessionsPanel(id="sessions")
        yield Footer()

    def on_mount(self) -> None:
        self._exit_on_signals()
        keymap = self.workspace.settings.keymap
        if keymap:
            self.set_keymap(dict(keymap))
        listing = self.query_one(CatalogueList)
        listing.favourites = self.workspace.state.favourites
        self._reorder()
        listing.focus()
        self.set_interval(self.tick_seconds, self.tick)
        self._show_identity()
        self._warn_about_leaky_settings()
        self.call_after_refresh(self._load_cached_sessions)
        self._mounted_once = True

    def _load_cached_sessions(self) -> None:
        panel = self.query_one(SessionsPanel)
        for active in self.workspace.cached_sessions():
            panel.add(active, self.clock())
        self._mark_active()
        self.workspace.catalogue.prepare_for_typing()
        _settle_garbage()

    # -- ordering and search --

    def _reorder(self) -> None:
        """Recompute the display order: favourites, then most used, or alphabetical."""
        catalogue = self.workspace.catalogue
        state = self.workspace.state
        count = len(catalogue)
        if state.alphabetical:
            order = sorted(range(count), key=catalogue.line)
        else:
            boosted: dict[int, tuple[int, int]] = {}
            for target in state.favourites | set(state.usage):
                index = catalogue.index_of(target)
                if index is not None:
                    fav = 0 if target in state.favourites else 1
                    boosted[index] = (fav, -state.usage.get(target, 0))
            head = sorted(boosted, key=lambda i: (*boosted[i], i))
            order = head + [i for i in range(count) if i not in boosted]
        self._natural = order == list(range(count))
        position = [0] * count
        for rank, index in enumerate(order):
            position[index] = rank
        self._order, self._position = order, position
        self._filter()

    def select_target(self, target: str) -> None:
        """Move the cursor to `target` if it is listed."""
        listing = self.query_one(CatalogueList)
        index = self.workspace.catalogue.index_of(target)
        if index is not None and index in listing.rows:
            listing.cursor = listing.rows.index(index)

    def _filter(self) -> None:
        words = self.query_text.lower().split()
        if words:
            previous, hits = self._last_search
            # A query that only adds to the last one can only narrow its hits.
            narrower = previous and all(any(w in n for n in words) for w in previous)
            catalogue = self.workspace.catalogue
            hits = catalogue.indexes(self.query_text, within=hits if narrower else None)
            self._last_search = (words, hits)
            # Hits come in file order; only a boosted or alphabetical order needs a sort.
            rows = hits if self._natural else sorted(hits, key=self._position.__getitem__)
        else:
            self._last_search = ([], [])
            rows = list(self._order)
        self.query_one(CatalogueList).set_rows(rows)

    def search_changed(self, value: str) -> None:
        """The search text changed (called by SearchInput, in the keystroke's frame)."""
        if value != self.query_text and self._mounted_once:
            self.query_text = value
            self._filter()

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.query_one(CatalogueList).focus()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    # -- the highlighted role --

    def highlighted_role(self) -> Role | None:
        """The role under the cursor."""
        index = self.query_one(CatalogueList).highlighted
        return None if index is None else self.workspace.catalogue.role_at(index)

    def choice_for(self, role: Role) -> tuple[TemplateChoice, int, int]:
        """The picked template for `role`, its position and the number of choices."""
        choices = template_choices(self.workspace.catalogue, role)
        if role.target not in self.template_index:
            remembered = self.workspace.state.templates.get(role.target)
            names = [c.name or "" for c in choices]
            self.template_index[role.target] = names.index(remembered) if remembered in names else 0
        index = self.template_index[role.target] % len(choices)
        return choices[index], index, len(choices)

    @on(CatalogueList.Highlighted)
    def highlighted(self) -> None:
        self._show_detail()
        role = self.highlighted_role()
        if role is not None:
            self.resolve_caller(role)

    def _show_detail(self) -> None:
        role = self.highlighted_role()
        detail = self.query_one(RoleDetail)
        if role is None:
            self._detail_shown = None
            context = self.workspace.name_context()
            detail.show(self.workspace.catalogue, None, None, (0, 0), {}, context, False)
            return
        choice, index, total = self.choice_for(role)
        caller = self._callers.get(role.target)
        shown = (role, index, tuple(self.variables.items()), caller, self.presenter)
        if shown == self._detail_shown:
            return  # nothing changed: skip the re-render and its layout pass
        self._detail_shown = shown
        context = self.workspace.name_context(caller=caller)
        detail.show(
            self.workspace.catalogue,
            role,
            choice,
            (index, total),
            self.variables,
            context,
            self.presenter,
        )

    def watch_presenter(self, presenter: bool) -> None:
        if not self._mounted_once:
            return
        self.query_one(CatalogueList).presenter = presenter
        self.query_one(CatalogueList).refresh()
        self.query_one(SessionsPanel).presenter = presenter
        self.query_one(SessionsPanel).tick(self.clock())
        self._show_detail()
        self._show_identity()

    def watch_caller(self) -> None:
        if self._mounted_once:
            self._show_identity()

    def _show_identity(self) -> None:
        text = Text("rolecall  ", style="bold")
        text.append("you: ", style="dim")
        if self.caller:
            text.append(inert(mask(self.caller, self.presenter)))
        else:
            text.append("resolving…", style="dim italic")
        if self.presenter:
            text.append("   [presenter mode]", style="bold magenta")
        self.query_one("#identity", Static).update(text)

    @work(thread=True, exclusive=True, group="caller", exit_on_error=False)
    def resolve_caller(self, role: Role) -> None:
        """GetCallerIdentity for the role's source, after first paint, off the event loop."""
        try:
            arn = self.workspace.caller_identity(role)
        except RolecallError:
            return
        caller = arn.rsplit("/", 1)[-1]
        self._callers[role.target] = caller
        self.call_from_thread(self._caller_known, arn)

    def _caller_known(self, arn: str) -> None:
        self.caller = arn
        self._show_detail()
        _settle_garbage()  # boto3 is loaded now: keep its objects out of later collections

    # -- actions on roles --

    def action_next_template(self) -> None:
        role = self.highlighted_role()
        if role is not None:
            _, index, total = self.choice_for(role)
            self.template_index[role.target] = (index + 1) % total
            self._show_detail()

    def action_favourite(self) -> None:
        role = self.highlighted_role()
        if role is None:
            return
        starred = self.workspace.state.toggle_favourite(role.target)
        self.workspace.save_state()
        self._reorder()
        self.select_target(role.target)
        self.notify(f"{'Starred' if starred else 'Unstarred'} {inert(role.target)}", markup=False)
        self.query_one(CatalogueList).refresh()

    def action_toggle_order(self) -> None:
        state = self.workspace.state
        state.alphabetical = not state.alphabetical
        self.workspace.save_state()
        self._reorder()
        self.notify(
            "Order: " + ("alphabetical" if state.alphabetical else "favourites, then most used")
        )

    def action_presenter(self) -> None:
        self.presenter = not self.presenter

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_help()))

    def key_help(self) -> list[tuple[str, str, str]]:
        """(key, description, binding id) for every app binding, as currently mapped."""
        rows = []
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            key = self.get_key_display(binding)
            if binding.id and binding.id in self.workspace.settings.keymap:
                key = self.workspace.settings.keymap[binding.id]
            rows.append((key, binding.description, binding.id or ""))
        rows.append((self.COMMAND_PALETTE_BINDING, "Command palette (every action)", "app.palette"))
        return rows

    @on(CatalogueList.Chosen)
    def chosen(self) -> None:
        self.action_assume()

    def action_assume(self) -> None:
        if isinstance(self.focused, Input):
            return
        role = self.highlighted_role()
        if role is not None:
            self.assume_flow(role, then=None)

    # -- the assume flow --

    @work(exclusive=False, group="assume", exit_on_error=False)
    async def assume_flow(self, role: Role, then: str | None) -> ActiveSession | None:
        """Confirm, ask for variables and MFA, assume in a thread, then maybe launch."""
        if role.target in self.assuming:
            return None
        self.assuming.add(role.target)
        try:
            active = await self._assume(role)
        finally:
            self.assuming.discard(role.target)
        if active is not None and then == "shell":
            self.launch_shell(active)
        elif active is not None and then == "console":
            self.open_console(role, active)
        return active

    async def _assume(self, role: Role) -> ActiveSession | None:
        if role.confirm:
            confirmed = await self.push_screen_wait(
                ConfirmScreen(role.target, role.account, role.arn)
            )
            if not confirmed:
                self.notify(
                    f"Not confirmed: nothing was assumed for {inert(role.target)}.",
                    severity="warning",
                    markup=False,
                )
                return None
        choice, _, _ = self.choice_for(role)
        options = AssumeOptions(template=choice.name if choice.name else None)
        names = self._free_variables(role, options)
        if names:
            asked = await self.push_screen_wait(VariablesScreen(choice.text, names, self.variables))
            if asked is None:
                return None
            self.variables.update(asked)
            options = options._replace(variables=asked)
        while True:
            self.notify(f"Assuming {inert(role.target)}…", timeout=2, markup=False)
            try:
                active = await self._in_thread(partial(self.workspace.assume, role, options))
            except MfaRequired as needed:
                hint = self.workspace.mfa_hint()
                code = await self.push_screen_wait(MfaScreen(needed.serial, needed.target, hint))
                if code is None:
                    return None
                options = options._replace(mfa_code=code)
                continue
            except RolecallError as error:
                self.show_error(error)
                return None
            break
        self.query_one(SessionsPanel).add(active, self.clock())
        self._mark_active()
        self._show_detail()
        remaining = active.session.remaining(self.clock())
        self.notify(
            f"{inert(mask(active.session.assumed_role_arn, self.presenter))}\n"
            f"valid for {int(remaining // 60)} min",
            title="Assumed",
            markup=False,
        )
        return active

    def _free_variables(self, role: Role, options: AssumeOptions) -> list[str]:
        """Every free variable the chain's templates need: the planner's own answer."""
        try:
            self.workspace.assumer.plan(role, options._replace(variables={}))
        except FreeVariableMissing as missing:
            return missing.names
        except RolecallError:
            pass  # the assume call itself reports it
        return []

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

    # -- sessions --

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

    def action_shell(self) -> None:
        self._with_session("shell")

    def action_console(self) -> None:
        self._with_session("console")

    def _with_session(self, then: str) -> None:
        active = self.current_session()
        role = self.role_of(active) if active else self.highlighted_role()
        if role is None:
            return
        if active is None:
            self.assume_flow(role, then=then)
        elif then == "shell":
            self.launch_shell(active)
        else:
            self.open_console(role, active)

    def launch_shell(self, active: ActiveSession) -> None:
        """Suspend the TUI, run the shell with the identity, and come back as we were."""
        try:
            with self.suspend():
                status = self.workspace.shell(active)
        except Exception as error:  # SuspendNotSupported in headless runs, OSError...
            if type(error).__name__ != "SuspendNotSupported":
                raise
            status = self.workspace.shell(active)
        self.refresh()
        self.notify(f"Shell for {inert(active.session.target)} exited ({status}).", markup=False)

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

    def action_copy_exports(self) -> None:
        active = self.current_session()
        if active is None:
            self.notify("Assume the role first, then press y.", severity="warning")
            return
        self.copy_to_clipboard(self.workspace.exports(active))
        self.notify(
            "Exports copied (they hold the secret key: paste them, then clear the clipboard).",
            severity="warning",
        )

    # -- hardening --

    def _exit_on_signals(self) -> None:
        """Leave cleanly (terminal restored, demo world removed) when the terminal goes away
        (SIGHUP: ssh dropped, tmux killed) or someone asks (SIGTERM). Without this the app
        would keep spinning on a dead terminal."""
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGTERM, self.exit)
            loop.add_signal_handler(signal.SIGHUP, self._hang_up)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            return
        if not self.is_headless:
            # SIGHUP goes to the terminal's foreground group: if the terminal dies while a
            # subshell holds it, we never hear of it. So also look every few seconds.
            self.set_interval(3, self._check_terminal)

    def _check_terminal(self) -> None:
        import os
        import sys

        stream = sys.__stdin__
        if stream is None:
            return
        try:
            os.tcgetpgrp(stream.fileno())
        except OSError:  # EIO/ENOTTY: the terminal was hung up
            self._hang_up()

    def _hang_up(self) -> None:
        """The terminal is gone: nothing can be drawn or restored, and an orderly shutdown
        would block writing to the dead terminal. Run the clean-up hooks and leave."""
        import contextlib
        import os

        for hook in self.hangup_hooks:
            with contextlib.suppress(Exception):  # best effort on the way out
                hook()
        os._exit(129)

    def _warn_about_leaky_settings(self) -> None:
        """Textual features that copy the screen or the log elsewhere: say so up front."""
        env = self.workspace.env
        leaks = [
            name
            for name, risky in (
                ("TEXTUAL_SCREENSHOT", "TEXTUAL_SCREENSHOT" in env),
                ("TEXTUAL_LOG", "TEXTUAL_LOG" in env),
                ("TEXTUAL=devtools", "devtools" in env.get("TEXTUAL", "")),
            )
            if risky
        ]
        if leaks:
            self.notify(
                f"{', '.join(leaks)} is set: the screen or the log is being copied elsewhere. "
                "Unset it before you assume anything sensitive.",
                title="Warning",
                severity="warning",
                timeout=15,
                markup=False,
            )

    def action_copy_console_link(self) -> None:
        """Copy a fresh console sign-in link (OSC 52), cleared again after 60 s."""
        active = self.current_session()
        role = self.role_of(active) if active else None
        if active is None or role is None:
            self.notify("Assume the role first.", severity="warning")
            return
        self.copy_console_link(role, active)

    @work(thread=True, group="console", exit_on_error=False)
    def copy_console_link(self, role: Role, active: ActiveSession) -> None:
        """Make the link in a thread; copy and schedule the clearing on the event loop."""
        try:
            link = self.workspace.console_link(role, active)
        except RolecallError as error:
            self.call_from_thread(self.show_error, error)
            return
        self.call_from_thread(self._copy_for_a_minute, link, role.target)

    def _copy_for_a_minute(self, link: str, target: str) -> None:
        self.copy_to_clipboard(link)
        self.set_timer(60, lambda: self.copy_to_clipboard(""))
        self.notify(
            f"Console link for {inert(target)} copied; cleared in 60 s, valid for 15 minutes.",
            markup=False,
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The system commands, minus "Screenshot": it writes an SVG of the screen to the
        current directory with default permissions."""
        for command in super().get_system_commands(screen):
            if "screenshot" not in command.title.lower():
                yield command

    def _fatal_error(self) -> None:
        """A crash: restore the terminal, exit non-zero, print one line and no locals."""
        self.bell()
        if self.workspace.env.get("ROLECALL_DEBUG"):
            from rich.segment import Segments
            from rich.traceback import Traceback

            trace = Traceback(show_locals=False, width=None)
            self._exit_renderables.append(
                Segments(self.console.render(trace, self.console.options))
            )
        self._exit_renderables.append(
            Text(
                "rolecall: unexpected internal error; this is a bug. "
                "Run `rolecall` again with ROLECALL_DEBUG=1 to see where.",
                style="bold red",
            )
        )
        self._close_messages_no_wait()


def _settle_garbage() -> None:
    """Move what start-up built (catalogue, styles, boto3's models) out of the collector's
    reach: a full collection over it would otherwise pause typing for 40-150 ms."""
    import gc

    gc.freeze()


def make_app(
    workspace: Workspace, clock: Clock | None = None, tick_seconds: float = 1.0
) -> RolecallApp:
    """The one factory for the CLI and the tests."""
    # Imports and the catalogue are built by now: keep them out of the collector's full
    # passes, which would otherwise land before the first paint.
    _settle_garbage()
    return RolecallApp(workspace, clock or (lambda: datetime.now(UTC)), tick_seconds)
