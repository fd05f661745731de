"""The rolecall terminal UI: browse, pick, assume, watch the clock, open a shell or console.

The app is given a `Workspace` (catalogue, STS engine, cache, journal, state) and a clock.
Blocking work (STS, the sign-in endpoint, GetCallerIdentity) runs in thread workers; dialogs
are awaited from async workers so that each flow reads top to bottom.

`RolecallApp` is built in layers, each in its own module and each using only those below:
`HardenedApp` (signals, a hung-up terminal, crashes: `hardening`), `BrowserApp` (order,
search, the highlighted role: `browse`), `SigningInApp` (an IAM Identity Center sign-in
when an assume or a renewal needs one: `signing_in`), `SessionActionsApp` (renew, forget,
shell, tmux, console, copying: `session_actions`), `KeepingApp` (sessions kept alive, the
shell with a credential server: `keeping`). This module adds the layout, the keys and the
assume flow, and `make_app`, the one way to build the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from rolecall.core.catalogue.model import Role
from rolecall.core.errors import FreeVariableMissing, RolecallError
from rolecall.core.sts.errors import MfaRequired
from rolecall.core.text import inert
from rolecall.core.workspace import ActiveSession, Workspace
from rolecall.ui.browse import Clock
from rolecall.ui.hardening import resume_collection, settle_garbage
from rolecall.ui.keeping import KeepingApp
from rolecall.ui.presenter import mask
from rolecall.ui.widgets.catalogue_list import CatalogueList
from rolecall.ui.widgets.role_detail import RoleDetail, preview
from rolecall.ui.widgets.search_input import SearchInput
from rolecall.ui.widgets.sessions_panel import SessionsPanel

if TYPE_CHECKING:  # imported when they are used, not for the first frame
    from textual.command import Provider

    from rolecall.core.fanout.batch import Batch
    from rolecall.core.fanout.children import FanOut, Outcome
    from rolecall.core.sts.planner import AssumeOptions
    from rolecall.ui.widgets.key_footer import KeyFooter

WIDE = 120
"""From this many columns the list and the detail pane sit side by side."""
TALL = 34
"""From this many lines (and `WIDE` columns) the detail pane shows everything."""


def commands_provider() -> type[Provider]:
    """rolecall's command palette entries, loaded when the palette first opens."""
    from rolecall.ui.commands import RolecallCommands

    return RolecallCommands


class RolecallApp(KeepingApp):
    """The TUI. Build it with `make_app`."""

    CSS_PATH = "app.tcss"
    TITLE = "rolecall"
    COMMANDS = App.COMMANDS | {commands_provider}
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    """Under `WIDE` columns the panes stack (app.tcss)."""
    VERTICAL_BREAKPOINTS = [(0, "-short"), (TALL, "-tall")]

    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="app.search"),
        Binding("enter", "assume", "Assume", id="app.assume", priority=False),
        Binding("s", "shell", "Shell", id="app.shell"),
        Binding("c", "console", "Console", id="app.console"),
        Binding("y", "copy_exports", "Copy exports", id="app.copy_exports"),
        Binding("r", "renew", "Renew", id="app.renew"),
        Binding("k", "keep", "Keep alive", show=False, id="app.keep"),
        Binding("d", "forget", "Forget", id="app.forget"),
        Binding("f", "favourite", "Favourite", id="app.favourite"),
        Binding("space", "toggle_mark", "Mark", show=False, id="app.mark"),
        Binding("t", "next_template", "Template", id="app.next_template"),
        Binding("o", "toggle_order", "Order", id="app.toggle_order"),
        Binding("p", "presenter", "Presenter", id="app.presenter"),
        Binding("w", "tmux_window", "tmux window", show=False, id="app.tmux_window"),
        Binding("tab", "focus_next", "Next pane", show=False, id="app.focus_next"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.interrupt"),
    ]

    def __init__(self, workspace: Workspace, clock: Clock, tick_seconds: float = 1.0) -> None:
        super().__init__(workspace, clock)
        self.tick_seconds = tick_seconds
        self.assuming: set[str] = set()
        """Targets with an assume flow in progress."""
        self.fan_outs: set[FanOut] = set()
        """Commands running across marked roles (stopped when the app ends)."""
        self.footer: KeyFooter | None = None
        """The keys, in the footer bar from the second frame on."""

    # -- layout --

    def get_default_screen(self) -> Screen[None]:
        """The main screen, `#main` in app.tcss: the panes sit on it directly (no container
        spanning the screen, which the first frame would draw for nothing)."""
        return Screen(id="main")

    def compose(self) -> ComposeResult:
        yield Static(id="identity")
        with Vertical(id="left"):
            yield SearchInput(
                self.search_changed,
                placeholder="/ search: every word must match",
                id="search",
            )
            yield CatalogueList(self.workspace.catalogue, id="catalogue")
        with Vertical(id="right"):
            yield RoleDetail(id="detail")
            yield SessionsPanel(id="sessions")
        # The footer's keys come after the first frame (they always did: Textual's footer
        # waits for the bindings); until then its row is an empty bar of the same colour.
        yield Widget(id="footer-bar")

    def on_mount(self) -> None:
        self.query_one(SessionsPanel).border_title = "Sessions"
        self._fit_to_terminal()
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
        self.call_after_refresh(self._after_first_frame)
        self._mounted_once = True

    def on_resize(self, event: events.Resize) -> None:
        self._fit_to_terminal(event.size.width, event.size.height)  # self.size is still old

    def _fit_to_terminal(self, width: int | None = None, height: int | None = None) -> None:
        """On a small terminal the detail pane folds to its essentials (the panes stack
        under `WIDE` columns: app.tcss)."""
        width = self.size.width if width is None else width
        height = self.size.height if height is None else height
        self.query_one(RoleDetail).compact = width < WIDE or height < TALL
        if self.footer is not None:
            self.footer.compact = width < WIDE

    def _after_first_frame(self) -> None:
        """What the first frame does without: the footer, the cached sessions and the search
        text for typing; then the collector runs again."""
        try:
            bars = self.query("#footer-bar")
            if bars and bars.first().is_attached:  # not when the app is closing (a quit)
                from rolecall.ui.widgets.key_footer import KeyFooter  # deferred: frame two

                self.footer = KeyFooter(compact=self.size.width < WIDE)
                bars.first().mount(self.footer)
                self.sync_sessions()
                self.workspace.catalogue.prepare_for_typing()
        finally:
            resume_collection()

    def on_unmount(self) -> None:
        for run in list(self.fan_outs):
            run.stop(force=True)
        self.stop_every_keeper()

    # -- help --

    def action_help(self) -> None:
        server = "on" if self.workspace.settings.tui.shell_server else "off"
        note = f"s with a credential server: {server} ([tui] shell_server = true in config.toml)"
        from rolecall.ui.screens.modals import HelpScreen  # deferred: not in the first frame

        self.push_screen(HelpScreen(self.key_help(), [note]))

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

    # -- the assume flow --

    @on(CatalogueList.Chosen)
    def chosen(self) -> None:
        self.action_assume()

    def action_assume(self) -> None:
        if isinstance(self.focused, Input):
            return
        role = self.highlighted_role()
        if role is not None:
            self.assume_flow(role, then=None)

    def action_shell(self) -> None:
        self._with_session("shell")

    def action_console(self) -> None:
        self._with_session("console")

    def _with_session(self, then: str) -> None:
        active = self.current_session()
        role = self.role_of(active) if active else self.highlighted_role()
        if role is None:
            return
        if active is not None:
            active = self.fresh(active)
            if active is None:
                return
        if active is None:
            self.assume_flow(role, then=then)
        elif then == "shell":
            self.launch_shell(active)
        else:
            self.open_console(role, active)

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
        from rolecall.ui.screens.modals import ConfirmScreen, MfaScreen, VariablesScreen

        if role.confirm:
            confirmed = await self.push_screen_wait(
                ConfirmScreen(role.target, role.account, role.arn, self.presenter)
            )
            if not confirmed:
                self.notify(
                    f"Not confirmed: nothing was assumed for {inert(role.target)}.",
                    severity="warning",
                    markup=False,
                )
                return None
        from rolecall.core.sts.planner import AssumeOptions  # deferred: not in the first frame

        choice, _, _ = self.choice_for(role)
        options = AssumeOptions(template=choice.name if choice.name else None)
        names = self._free_variables(role, options)
        if names:
            context = self.workspace.name_context(caller=self._callers.get(role.target))

            def preview_with(values: Mapping[str, str]) -> tuple[str, str, str | None]:
                return preview(role, choice.text, {**self.variables, **values}, context)

            asked = await self.push_screen_wait(
                VariablesScreen(choice.text, names, self.variables, preview_with, self.presenter)
            )
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
                code = await self.push_screen_wait(
                    MfaScreen(needed.serial, needed.target, hint, self.presenter)
                )
                if code is None:
                    return None
                options = options._replace(mfa_code=code)
                continue
            except RolecallError as error:
                if await self.sign_in_or_report(role, error, f"Assuming {inert(role.target)}"):
                    continue  # signed in to IAM Identity Center: the assume goes on
                return None
            break
        self.query_one(SessionsPanel).add(active, self.clock())
        self.sync_sessions()  # the chain's hub hop, cached on the way
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

    # -- one command across the marked roles --

    def action_run_across_marked(self) -> None:
        roles = self.marked_roles()
        if not roles:
            self.notify("Mark roles with space first.", severity="warning")
            return
        self.run_across(roles)

    @work(exclusive=False, group="run_across", exit_on_error=False)
    async def run_across(self, roles: list[Role]) -> list[Outcome] | None:
        """Ask for the command, plan, assume shared hops (MFA in a dialog), run, show."""
        from rolecall.core.fanout.batch import Batch
        from rolecall.core.fanout.children import FanOut
        from rolecall.ui.screens.modals import VariablesScreen
        from rolecall.ui.screens.run_across import CommandLineScreen, RunResultsScreen

        guarded = [role.target for role in roles if role.confirm]
        command = await self.push_screen_wait(
            CommandLineScreen([role.target for role in roles], guarded, self.presenter)
        )
        if command is None:
            return None
        from rolecall.core.sts.planner import AssumeOptions

        options = AssumeOptions(variables=dict(self.variables))
        names = list(dict.fromkeys(n for r in roles for n in self._free_variables(r, options)))
        if names:
            asked = await self.push_screen_wait(
                VariablesScreen("several roles", names, self.variables, presenter=self.presenter)
            )
            if asked is None:
                return None
            self.variables.update(asked)
            options = options._replace(variables=dict(self.variables))
        try:
            batch = Batch(self.workspace.assumer, roles, options)
        except RolecallError as error:
            self.show_error(error)
            return None
        run = FanOut(batch, command, self.workspace.env, journal=self.workspace.journal)
        self.notify(f"Running {inert(command[0])} across {len(roles)} roles…", markup=False)
        self.fan_outs.add(run)
        try:
            outcomes = await self._in_thread(partial(self._fan_out, batch, run))
        finally:
            self.fan_outs.discard(run)
        await self.push_screen(RunResultsScreen(command, outcomes, self.presenter))
        return outcomes

    def _fan_out(self, batch: Batch, run: FanOut) -> list[Outcome]:
        """In a thread: shared hops first (asking for MFA codes in a dialog), then the run."""
        batch.prepare(self._ask_mfa_from_thread)
        return run.run()

    def _ask_mfa_from_thread(self, serial: str, target: str, problem: str | None) -> str | None:
        answer: Future[str | None] = Future()

        def ask() -> None:
            from rolecall.ui.screens.modals import MfaScreen

            hint = problem or self.workspace.mfa_hint()
            screen = MfaScreen(serial, target, hint, self.presenter)
            self.push_screen(screen, callback=answer.set_result)

        self.call_from_thread(ask)
        return answer.result()

    def _free_variables(self, role: Role, options: AssumeOptions) -> list[str]:
        """Every free variable the chain's templates need: the planner's own answer."""
        try:
            self.workspace.assumer.plan(role, options._replace(variables={}))
        except FreeVariableMissing as missing:
            return missing.names
        except RolecallError:
            pass  # the assume call itself reports it
        return []


def make_app(
    workspace: Workspace, clock: Clock | None = None, tick_seconds: float = 1.0
) -> RolecallApp:
    """The one factory for the CLI and the tests."""
    # Imports and the catalogue are built by now: keep them out of the collector's full
    # passes, which would otherwise land before the first paint.
    settle_garbage()
    return RolecallApp(workspace, clock or (lambda: datetime.now(UTC)), tick_seconds)
