"""Modal dialogs: MFA code, an Identity Center sign-in, free variables, typed confirmation,
help."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from rolecall.core.text import inert

MODAL_CSS = """
{name} {{
    align: center middle;
}}
{name} > Vertical {{
    width: 72;
    height: auto;
    border: thick $primary;
    background: $surface;
    padding: 1 2;
}}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .error {{ color: $error; }}
"""


class MfaScreen(ModalScreen[str | None]):
    """Asks for a 6-digit MFA code; dismisses with the code, or None on escape."""

    DEFAULT_CSS = MODAL_CSS.format(name="MfaScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="mfa.cancel")]

    def __init__(self, serial: str, target: str, hint: str | None = None) -> None:
        super().__init__()
        self.serial = serial
        self.target = target
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"MFA code for {inert(self.target)}"), classes="title")
            yield Static(Text(f"Device: {inert(self.serial)}"))
            if self.hint:
                yield Static(Text(inert(self.hint)), classes="hint")
            yield Input(
                placeholder="6 digits",
                restrict=r"[0-9]{0,6}",
                max_length=6,
                password=True,
                id="code",
            )
            yield Static("", id="mfa-error", classes="error")

    @on(Input.Submitted, "#code")
    def submit_code(self, event: Input.Submitted) -> None:
        if len(event.value) == 6:
            self.dismiss(event.value)
        else:
            self.query_one("#mfa-error", Static).update("An MFA code is six digits.")

    def action_cancel(self) -> None:
        self.dismiss(None)


class SignInScreen(ModalScreen[bool]):
    """Asks whether to sign in to IAM Identity Center now (a kept session needs it)."""

    DEFAULT_CSS = MODAL_CSS.format(name="SignInScreen")
    BINDINGS = [
        Binding("enter", "sign_in", "Sign in", id="signin.confirm"),
        Binding("escape", "cancel", "Cancel", id="signin.cancel"),
    ]

    def __init__(self, target: str, reason: str) -> None:
        super().__init__()
        self.target = target
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Sign in to keep {inert(self.target)} alive"), classes="title")
            yield Static(Text(inert(self.reason)))
            yield Static(
                Text("enter: sign in (browser or device code)  ·  escape: stop keeping it"),
                classes="hint",
            )

    def action_sign_in(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class VariablesScreen(ModalScreen[dict[str, str] | None]):
    """Asks for the free variables of a session-name template."""

    DEFAULT_CSS = MODAL_CSS.format(name="VariablesScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="variables.cancel")]

    def __init__(self, template: str, names: Iterable[str], known: Mapping[str, str]) -> None:
        super().__init__()
        self.template = template
        self.names = list(names)
        self.known = dict(known)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Session name: {inert(self.template)}"), classes="title")
            for name in self.names:
                yield Static(Text(f"{inert(name)}:"))
                yield Input(value=self.known.get(name, ""), id=f"var-{name}", classes="var")
            yield Static("", id="variables-error", classes="error")

    @on(Input.Submitted, ".var")
    def next_or_submit(self, event: Input.Submitted) -> None:
        inputs = list(self.query(".var").results(Input))
        values = {name: field.value.strip() for name, field in zip(self.names, inputs, strict=True)}
        empty = [name for name, value in values.items() if not value]
        if not empty:
            self.dismiss(values)
            return
        position = inputs.index(event.input)
        if position + 1 < len(inputs):
            inputs[position + 1].focus()
        else:
            message = f"Still needed: {', '.join(empty)}"
            self.query_one("#variables-error", Static).update(Text(message))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Typed confirmation for guarded (prod / confirm = true) roles."""

    DEFAULT_CSS = MODAL_CSS.format(name="ConfirmScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm.cancel")]

    def __init__(self, target: str, account: str, arn: str) -> None:
        super().__init__()
        self.target = target
        self.account = account
        self.arn = arn

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"{inert(self.target)} is guarded."), classes="title")
            yield Static(Text(f"You are about to act as {inert(self.arn)}."))
            yield Static(Text(f"Type the account name '{inert(self.account)}' to continue:"))
            yield Input(id="answer")

    @on(Input.Submitted, "#answer")
    def check(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() == self.account)

    def action_cancel(self) -> None:
        self.dismiss(False)


class HelpScreen(ModalScreen[None]):
    """Every key binding, with its id (bindings are remappable by id)."""

    DEFAULT_CSS = MODAL_CSS.format(name="HelpScreen").replace("width: 72", "width: 90")
    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("question_mark", "close", "Close", show=False, id="help.close_key"),
    ]

    def __init__(self, keys: Iterable[tuple[str, str, str]], notes: Iterable[str] = ()) -> None:
        super().__init__()
        self.keys = list(keys)
        self.notes = list(notes)
        """Lines about settings, shown under the keys."""

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold")
        table.add_column("key")
        table.add_column("action")
        table.add_column("binding id", style="dim")
        for key, description, binding_id in self.keys:
            table.add_row(Text(key), Text(description), Text(binding_id))
        with Vertical():
            yield Static("rolecall keys", classes="title")
            yield Static(table)
            for note in self.notes:
                yield Static(Text(note))
            yield Static(
                Text(
                    'Remap in config: [keymap] "app.shell" = "ctrl+s"  ·  escape closes',
                    style="dim",
                )
            )

    def action_close(self) -> None:
        self.dismiss(None)
