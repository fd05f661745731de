"""Running one command across the marked roles: the command-line dialog and the results.

The command line is split like a shell would split it (`shlex`), but no shell ever runs it.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from functools import partial

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from rolecall.core.fanout.children import Outcome
from rolecall.core.text import inert
from rolecall.ui.presenter import mask
from rolecall.ui.screens.modals import MODAL_CSS


class CommandLineScreen(ModalScreen[list[str] | None]):
    """Asks for the command to run across `targets`; guarded ones are confirmed by typing
    their count. Dismisses with the command's argv, or None on escape."""

    DEFAULT_CSS = MODAL_CSS.format(name="CommandLineScreen").replace("width: 72", "width: 96")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="run_across.cancel")]

    def __init__(
        self, targets: Sequence[str], guarded: Sequence[str], presenter: bool = False
    ) -> None:
        super().__init__()
        self.targets = list(targets)
        self.guarded = list(guarded)
        self.presenter = presenter
        """Mask account ids."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text(f"Run a command across {len(self.targets)} marked roles"), classes="title"
            )
            listing = Text()
            for target in self.targets:
                listing.append(f"  {inert(mask(target, self.presenter))}")
                if target in self.guarded:
                    listing.append("  asks for confirmation", style="bold red")
                listing.append("\n")
            yield Static(listing)
            yield Input(placeholder="command and arguments (no shell), e.g. aws s3 ls", id="argv")
            if self.guarded:
                count = len(self.guarded)
                yield Static(Text(f"Type {count} to run it on the {count} guarded roles too:"))
                yield Input(id="confirm-count")
            yield Static("", id="run-across-error", classes="error")

    @on(Input.Submitted)
    def submit(self) -> None:
        error = self.query_one("#run-across-error", Static)
        try:
            argv = shlex.split(self.query_one("#argv", Input).value)
        except ValueError as problem:
            error.update(Text(f"Cannot split the command line: {problem}."))
            return
        if not argv:
            error.update("Type a command first.")
            self.query_one("#argv", Input).focus()
            return
        if self.guarded:
            typed = self.query_one("#confirm-count", Input)
            if typed.value.strip() != str(len(self.guarded)):
                error.update(Text(f"Type {len(self.guarded)} to confirm the guarded roles."))
                typed.focus()
                return
        self.dismiss(argv)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RunResultsScreen(ModalScreen[None]):
    """Each target's exit code (or why it did not run) and its output."""

    DEFAULT_CSS = MODAL_CSS.format(name="RunResultsScreen").replace(
        "width: 72;\n    height: auto;", "width: 90%;\n    height: 90%;"
    ) + (
        "RunResultsScreen .outcome { text-style: bold; margin-top: 1; }\n"
        "RunResultsScreen .-failed { color: $error; }\n"
        "RunResultsScreen .output { color: $text-muted; }\n"
    )
    BINDINGS = [Binding("escape", "close", "Close", id="run_results.close")]

    def __init__(
        self, command: Sequence[str], outcomes: Sequence[Outcome], presenter: bool = False
    ) -> None:
        super().__init__()
        self.command = list(command)
        self.outcomes = list(outcomes)
        self.presenter = presenter
        """Mask account ids (in the output too: `aws sts get-caller-identity` prints one)."""

    def compose(self) -> ComposeResult:
        failed = sum(1 for o in self.outcomes if not o.ok)
        title = (
            f"{shlex.join(self.command)}: {len(self.outcomes) - failed} of "
            f"{len(self.outcomes)} succeeded"
        )
        hide = partial(mask, presenter=self.presenter)
        with Vertical():
            yield Static(Text(inert(hide(title))), classes="title", id="run-results-title")
            with VerticalScroll():
                for outcome in self.outcomes:
                    yield Static(
                        Text(hide(f"{inert(outcome.target)}  {status(outcome)}")),
                        classes="outcome" + ("" if outcome.ok else " -failed"),
                    )
                    output = outcome.stdout + outcome.stderr
                    if output:
                        shown = "\n".join(inert(hide(line)) for line in output.splitlines())
                        yield Static(Text(shown), classes="output")
            yield Static(Text("escape closes", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)


def status(outcome: Outcome) -> str:
    """`exit 0 · 1.2 s`, or why the target did not run."""
    if outcome.error is not None and outcome.exit is None:
        return inert(outcome.error)
    text = f"exit {outcome.exit} · {outcome.seconds:.1f} s"
    return text if outcome.error is None else f"{text} · {inert(outcome.error)}"
