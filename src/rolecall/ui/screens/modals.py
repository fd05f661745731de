"""Modal dialogs: MFA code, free variables, typed confirmation, a console link no browser
took, help (the Identity Center sign-in dialogs are in `sign_in`). Each masks account ids
when given `presenter`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from rolecall.core.text import inert
from rolecall.ui.presenter import mask

Preview = Callable[[Mapping[str, str]], tuple[str, str, str | None]]
"""(session name, assumed-role ARN, note) for given variable values."""


def shown_text(text: str, presenter: bool) -> Text:
    """`text` made inert (never markup), account ids masked in presenter mode."""
    return Text(inert(mask(text, presenter)))


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

    def __init__(
        self, serial: str, target: str, hint: str | None = None, presenter: bool = False
    ) -> None:
        super().__init__()
        self.serial = serial
        self.target = target
        self.hint = hint
        self.presenter = presenter
        """Mask account ids (the device ARN holds one)."""

    def compose(self) -> ComposeResult:
        shown = partial(shown_text, presenter=self.presenter)
        with Vertical():
            yield Static(shown(f"MFA code for {self.target}"), classes="title")
            yield Static(shown(f"Device: {self.serial}"))
            if self.hint:
                yield Static(shown(self.hint), classes="hint")
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


class VariablesScreen(ModalScreen[dict[str, str] | None]):
    """Asks for the free variables of a session-name template, saying as you type what is
    still needed and (given `preview`) the session name and what CloudTrail will show."""

    DEFAULT_CSS = MODAL_CSS.format(name="VariablesScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="variables.cancel")]

    def __init__(
        self,
        template: str,
        names: Iterable[str],
        known: Mapping[str, str],
        preview: Preview | None = None,
        presenter: bool = False,
    ) -> None:
        super().__init__()
        self.template = template
        self.names = list(names)
        self.known = dict(known)
        self.preview = preview
        """(session name, assumed-role ARN, note) for the values typed so far."""
        self.presenter = presenter
        """Mask account ids."""

    def compose(self) -> ComposeResult:
        shown = partial(shown_text, presenter=self.presenter)
        with Vertical():
            yield Static(shown(f"Session name: {self.template}"), classes="title")
            for name in self.names:
                yield Static(Text(f"{inert(name)}:"))
                yield Input(value=self.known.get(name, ""), id=f"var-{name}", classes="var")
            yield Static("", id="variables-needed", classes="error")
            if self.preview is not None:
                yield Static("", id="variables-preview")

    def on_mount(self) -> None:
        self.show_state()

    def values(self) -> dict[str, str]:
        """What has been typed, by variable name."""
        inputs = self.query(".var").results(Input)
        return {name: field.value.strip() for name, field in zip(self.names, inputs, strict=True)}

    @on(Input.Changed, ".var")
    def show_state(self) -> None:
        """What is still needed, and the name and ARN these values give."""
        values = self.values()
        empty = [name for name, value in values.items() if not value]
        needed = f"Still needed: {', '.join(empty)}" if empty else ""
        self.query_one("#variables-needed", Static).update(Text(inert(needed)))
        if self.preview is None:
            return
        name, arn, note = self.preview(values)
        text = Text()
        if name:
            text.append("Session name: ", style="bold")
            text.append(inert(mask(name, self.presenter)), style="green" if not note else "yellow")
            text.append("\nCloudTrail will show: ", style="bold")
            text.append(inert(mask(arn, self.presenter)))
        elif note:
            text.append(inert(note), style="red")
        self.query_one("#variables-preview", Static).update(text)

    @on(Input.Submitted, ".var")
    def next_or_submit(self, event: Input.Submitted) -> None:
        inputs = list(self.query(".var").results(Input))
        values = self.values()
        if all(values.values()):
            self.dismiss(values)
            return
        position = inputs.index(event.input)
        if position + 1 < len(inputs):
            inputs[position + 1].focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Typed confirmation for guarded (prod / confirm = true) roles: a wrong name may be
    typed again; escape gives up."""

    DEFAULT_CSS = MODAL_CSS.format(name="ConfirmScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm.cancel")]

    def __init__(self, target: str, account: str, arn: str, presenter: bool = False) -> None:
        super().__init__()
        self.target = target
        self.account = account
        self.arn = arn
        self.presenter = presenter
        """Mask account ids."""

    def compose(self) -> ComposeResult:
        shown = partial(shown_text, presenter=self.presenter)
        with Vertical():
            yield Static(shown(f"{self.target} is guarded."), classes="title")
            yield Static(shown(f"You are about to act as {self.arn}."))
            yield Static(shown(f"Type the account name '{self.account}' to continue:"))
            yield Input(id="answer")
            yield Static("", id="confirm-error", classes="error")

    @on(Input.Submitted, "#answer")
    def check(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.account:
            self.dismiss(True)
            return
        event.input.clear()
        self.query_one("#confirm-error", Static).update(
            shown_text(
                f"That is not '{self.account}'. Type it again, or escape to cancel.",
                self.presenter,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(False)


class LinkScreen(ModalScreen[bool]):
    """No browser took a console link: copy it (`y`, dismisses with True), or select it.

    The link signs anyone in as the session: presenter mode never shows it.
    """

    DEFAULT_CSS = MODAL_CSS.format(name="LinkScreen").replace("width: 72", "width: 90%") + (
        "LinkScreen TextArea { height: 6; }\n"
    )
    BINDINGS = [
        Binding("y", "copy", "Copy", priority=True, id="link.copy"),
        Binding("escape", "cancel", "Close", id="link.close"),
    ]

    def __init__(self, target: str, link: str, reason: str, presenter: bool = False) -> None:
        super().__init__()
        self.target = target
        self.link = link
        self.reason = reason
        self.presenter = presenter
        """Hide the link (and mask account ids)."""

    def compose(self) -> ComposeResult:
        from textual.widgets import TextArea  # deferred: a document model the app's start skips

        shown = partial(shown_text, presenter=self.presenter)
        with Vertical():
            yield Static(shown(f"Console sign-in link for {self.target}"), classes="title")
            yield Static(shown(self.reason))
            if self.presenter:
                yield Static(Text("The link is hidden in presenter mode.", style="italic"))
            else:
                yield TextArea(self.link, read_only=True, soft_wrap=True, id="link")
            yield Static(
                Text(
                    "y: copy it (cleared after 60 s)  ·  escape: close.  It signs anyone in "
                    "as this session for 15 minutes: do not paste it where others can see.",
                    style="dim",
                )
            )

    def action_copy(self) -> None:
        self.dismiss(True)

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
