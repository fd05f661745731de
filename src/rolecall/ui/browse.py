"""Browsing the catalogue: display order, search, the highlighted role and its detail pane,
the caller's identity line, and the keys that act on the listing (template, star, order)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.widgets import Input, Static

from rolecall.core.catalogue.model import Role
from rolecall.core.errors import RolecallError
from rolecall.core.text import inert
from rolecall.core.workspace import Workspace
from rolecall.ui.hardening import HardenedApp, settle_garbage
from rolecall.ui.presenter import mask
from rolecall.ui.widgets.catalogue_list import CatalogueList
from rolecall.ui.widgets.role_detail import RoleDetail, TemplateChoice, template_choices
from rolecall.ui.widgets.search_input import SearchInput
from rolecall.ui.widgets.sessions_panel import SessionsPanel

Clock = Callable[[], datetime]

FIRST_FRAME_WAIT = 2.0
"""Seconds the caller's lookup waits for the first frame at most."""


class BrowserApp(HardenedApp):
    """The catalogue side of the app: what is listed, in which order, and what is shown of
    the role under the cursor."""

    presenter: reactive[bool] = reactive(False)
    """Mask account ids and ARNs on screen (for demos and screen sharing)."""

    caller: reactive[str | None] = reactive(None)
    """The source identity ARN of the highlighted role, once known."""

    def __init__(self, workspace: Workspace, clock: Clock) -> None:
        super().__init__(workspace)
        self.clock = clock
        """The source of "now" for countdowns and templates (injected by tests)."""
        self.query_text = ""
        """The current search."""
        self.variables: dict[str, str] = {}
        """Free-variable values given so far (prefilled next time)."""
        self.template_index: dict[str, int] = {}
        """Picked template per target (index into `template_choices`)."""
        self.marked: dict[str, None] = {}
        """Targets marked with `space`, in the order marked (searching keeps them)."""
        self._order: list[int] = []
        self._last_search: tuple[list[str], list[int]] = ([], [])
        self._natural = True
        self._detail_shown: tuple[object, ...] | None = None
        self._position: list[int] = []
        self._callers: dict[str, str] = {}
        self._mounted_once = False
        self._first_frame = threading.Event()
        """Set once the first frame is on screen: the caller's child process waits for it."""

    # -- ordering and search --

    def _reorder(self) -> None:
        """Recompute the display order: favourites, then most used, or alphabetical."""
        catalogue = self.workspace.catalogue
        state = self.workspace.state
        count = len(catalogue)
        if state.alphabetical:
            order = sorted(range(count), key=catalogue.line)
            self._natural = order == list(range(count))
        else:
            boosted: dict[int, tuple[int, int]] = {}
            for target in state.favourites | set(state.usage):
                index = catalogue.index_of(target)
                if index is not None:
                    fav = 0 if target in state.favourites else 1
                    boosted[index] = (fav, -state.usage.get(target, 0))
            head = sorted(boosted, key=lambda i: (*boosted[i], i))
            # File order after the head: natural exactly when the head is the file's first rows.
            self._natural = head == list(range(len(head)))
            order = (
                list(range(count))
                if self._natural
                else head + [i for i in range(count) if i not in boosted]
            )
        if self._natural:
            position = order  # the identity: every role's rank is its own index
        else:
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
    @on(SearchInput.Left)
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
        if not self._first_frame.is_set():
            self.call_after_refresh(self._first_frame.set)
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

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A notification, with account ids masked in presenter mode (every notice, error
        and warning goes through here)."""
        super().notify(
            mask(message, self.presenter),
            title=mask(title, self.presenter),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def watch_presenter(self, presenter: bool) -> None:
        if presenter:
            self.clear_notifications()  # shown before: they may hold account ids
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
        # The child process (and its CPU) only once the first frame is on screen.
        self._first_frame.wait(FIRST_FRAME_WAIT)
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
        settle_garbage()  # boto3 is loaded now: keep its objects out of later collections

    # -- actions on the listing --

    def action_next_template(self) -> None:
        role = self.highlighted_role()
        if role is not None:
            _, index, total = self.choice_for(role)
            self.template_index[role.target] = (index + 1) % total
            self._show_detail()

    def action_toggle_mark(self) -> None:
        """Mark or unmark the highlighted role, then move to the next one."""
        if isinstance(self.focused, Input):
            return
        role = self.highlighted_role()
        if role is None:
            return
        if role.target in self.marked:
            del self.marked[role.target]
        else:
            self.marked[role.target] = None
        listing = self.query_one(CatalogueList)
        listing.marked = set(self.marked)
        left = self.query_one("#left")
        left.border_subtitle = f"{len(self.marked)} marked" if self.marked else ""
        listing.action_move(1)
        listing.refresh()

    def marked_roles(self) -> list[Role]:
        """The marked roles that the catalogue still holds, in the order marked."""
        catalogue = self.workspace.catalogue
        return [role for t in self.marked if (role := catalogue.get(t)) is not None]

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
        """Switch the order; the cursor stays on the same role."""
        state = self.workspace.state
        state.alphabetical = not state.alphabetical
        self.workspace.save_state()
        role = self.highlighted_role()
        self._reorder()
        if role is not None:
            self.select_target(role.target)
        self.notify(
            "Order: " + ("alphabetical" if state.alphabetical else "favourites, then most used")
        )

    def action_presenter(self) -> None:
        self.presenter = not self.presenter
