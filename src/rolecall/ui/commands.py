"""The command palette: every action, and assume / shell / console for any role."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from rolecall.core.text import inert
from rolecall.ui.presenter import mask

if TYPE_CHECKING:
    from rolecall.core.catalogue.model import Role
    from rolecall.core.workspace import Workspace

ROLE_HITS = 20
"""Roles offered per query: the catalogue search narrows 50,000 roles first."""

ACTIONS = (
    ("Toggle order (favourites / alphabetical)", "toggle_order"),
    ("Presenter mode (mask account ids)", "presenter"),
    ("Next session-name template", "next_template"),
    ("Favourite the highlighted role", "favourite"),
    ("Renew the current session", "renew"),
    ("Keep the current session alive (or stop keeping it)", "keep"),
    ("Forget the current session", "forget"),
    ("Copy exports of the current session", "copy_exports"),
    ("Copy a console sign-in link for the current session", "copy_console_link"),
    ("Open a tmux window with the current session", "tmux_window"),
    ("Mark the highlighted role (or unmark it)", "toggle_mark"),
    ("Run a command across the marked roles", "run_across_marked"),
    ("Help: every key", "help"),
)


@runtime_checkable
class RoleLauncher(Protocol):
    """What the palette needs of its app (`RolecallApp`, which imports this module): the
    catalogue to search, and the assume flow to start."""

    workspace: Workspace
    presenter: bool

    def assume_flow(self, role: Role, then: str | None) -> object:
        """Assume `role`, then open a "shell" or the "console" (or nothing)."""
        ...


class RolecallCommands(Provider):
    """Actions, plus "Assume X", "Shell for X" and "Console for X" for matching roles."""

    @property
    def rolecall(self) -> RoleLauncher:
        assert isinstance(self.app, RoleLauncher)
        return self.app

    async def discover(self) -> Hits:
        for title, action in ACTIONS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=action)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action in ACTIONS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action))
        app = self.rolecall
        words = [w for w in query.lower().split() if w not in ("assume", "shell", "console", "for")]
        if not words:
            return
        for index in app.workspace.catalogue.indexes(" ".join(words))[:ROLE_HITS]:
            role = app.workspace.catalogue.role_at(index)
            target = inert(mask(role.target, app.presenter))
            for verb, then in (
                ("Assume", None),
                ("Shell for", "shell"),
                ("Console for", "console"),
            ):
                title = f"{verb} {target}"
                # A Text, never a string: the palette would parse a string (and `help`) as
                # markup, and a catalogue description must not become a clickable action.
                display = Text(title)
                if role.description:
                    description = mask(role.description, app.presenter)
                    display.append(f"  {inert(description)}", style="dim")
                yield Hit(
                    0.5 + 0.4 * matcher.match(title),
                    display,
                    partial(app.assume_flow, role, then),
                    text=title,
                )
