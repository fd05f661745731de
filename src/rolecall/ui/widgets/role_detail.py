"""RoleDetail: everything about the highlighted role, and what CloudTrail will show.

All catalogue text goes into `rich.text.Text` objects, which are never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from rolecall.core.catalogue.model import Catalogue, Role, format_duration
from rolecall.core.errors import TemplateError
from rolecall.core.naming.session_name import (
    NameContext,
    assumed_role_arn,
    parse_template,
    render_session_name,
)
from rolecall.core.text import inert
from rolecall.ui.presenter import mask


class TemplateChoice:
    """One entry of the template picker."""

    __slots__ = ("label", "name", "text")

    def __init__(self, label: str, text: str, name: str | None) -> None:
        self.label = label
        """What the picker shows."""
        self.text = text
        """The template itself."""
        self.name = name
        """Its `[session_names]` name (what `--template` takes), or None for the role's own."""


def template_choices(catalogue: Catalogue, role: Role) -> list[TemplateChoice]:
    """The role's own template first, then every named template, without repeats."""
    own = role.session_name_ref
    choices = [TemplateChoice(f"@{own}" if own else "role default", role.session_name, own)]
    for name, text in catalogue.session_names.items():
        if name != own:
            choices.append(TemplateChoice(f"@{name}", text, name))
    return choices


def preview(
    role: Role, template: str, variables: Mapping[str, str], context: NameContext
) -> tuple[str, str, str | None]:
    """(name, assumed-role ARN, note) for the live preview, or ("", "", error).

    Values not known yet (free variables, `{caller}`) are rendered as sentinels that survive
    sanitising and then shown as `{name}` again.
    """
    parsed = parse_template(template)
    unknown = [n for n in parsed.free_variables if not variables.get(n)]
    if "caller" in parsed.placeholders and not context.caller:
        unknown.append("caller")
    sentinels = {n: f"QZ{n}ZQ" for n in unknown}
    try:
        rendered = render_session_name(
            parsed,
            role.facts,
            NameContext(
                user=context.user,
                host=context.host,
                now=context.now,
                variables={**dict(variables), **sentinels},
                caller=context.caller or sentinels.get("caller"),
                rand=context.rand,
            ),
        )
    except TemplateError as e:
        return "", "", e.message
    name = rendered.name
    for n, sentinel in sentinels.items():
        name = name.replace(sentinel, "{" + n + "}")
    note = f"asks for {', '.join(unknown)}" if unknown else None
    return name, assumed_role_arn(role.facts, name), note


LABEL = 11
"""Width of the label column; values wrap under their own start (a hanging indent)."""


class DetailText:
    """Labelled rows that wrap at whatever width they are drawn, each value under its own
    start, so that a long ARN never lands under a label or splits mid-column."""

    def __init__(self) -> None:
        self.rows: list[tuple[str | None, Text]] = []
        """(label, value); None for a heading that spans the width."""

    def add(self, label: str | None, value: Text) -> None:
        """Add a row (`value` is never parsed as markup)."""
        self.rows.append((label, value))

    def __str__(self) -> str:
        """The rows unwrapped, one per line: what the pane says, whatever its width."""
        return "\n".join(
            value.plain if label is None else head(label) + value.plain
            for label, value in self.rows
        )

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(options.max_width, LABEL + 8)
        out = Text(no_wrap=True, overflow="fold")  # each line ends in "\n": Textual counts them
        for label, value in self.rows:
            if label is None:
                lines, indent = list(value.wrap(console, width, overflow="fold")), ""
            else:
                start = head(label)
                if len(start) > LABEL:  # a long label: the value beside it, or under it
                    if len(start) + value.cell_len <= width:
                        out.append(start, style="bold")
                        out.append_text(value)
                        out.append("\n")
                        continue
                    out.append(start.rstrip() + "\n", style="bold")
                    start = ""
                out.append(start or " " * LABEL, style="bold")
                lines, indent = (
                    list(value.wrap(console, width - LABEL, overflow="fold")),
                    " " * LABEL,
                )
            for number, line in enumerate(lines):
                line.rstrip()
                out.append(indent if number else "")
                out.append_text(line)
                out.append("\n")
        out.rstrip()
        yield out


def head(label: str) -> str:
    """`label` padded to the label column (a longer one gets one space)."""
    return label.ljust(LABEL - 1) + " "


class RoleDetail(Widget):
    """The detail pane for the highlighted role; `compact` (set by the app on a small
    terminal) keeps only the ARN, the session name and what CloudTrail will show."""

    DEFAULT_CSS = """
    RoleDetail {
        height: auto;
        padding: 0 1;
    }
    """

    compact: reactive[bool] = reactive(False, layout=True)
    """Four lines instead of the whole story (the app sets it when the terminal is small)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: DetailText | Text = Text("")
        self._args: tuple[object, ...] | None = None

    def render(self) -> RenderableType:
        return self._shown

    def watch_compact(self) -> None:
        if self._args is not None:
            self.show(*self._args)  # type: ignore[arg-type]

    def show(
        self,
        catalogue: Catalogue,
        role: Role | None,
        choice: TemplateChoice | None,
        choice_index: tuple[int, int],
        variables: Mapping[str, str],
        context: NameContext,
        presenter: bool,
    ) -> None:
        """Render `role` (None: nothing highlighted)."""
        self._args = (catalogue, role, choice, choice_index, variables, context, presenter)
        if role is None or choice is None:
            self._shown = Text("No role matches the search.", style="dim")
            self.refresh(layout=True)
            return
        text = DetailText()

        def row(label: str, value: str, style: str = "") -> None:
            text.add(label, Text(inert(mask(value, presenter)), style=style))

        heading = Text(inert(mask(role.target, presenter)), style="bold")
        if role.is_prod:
            heading.append("  PROD", style="bold red")
        if role.confirm:
            heading.append("  (confirm)", style="yellow")
        text.add(None, heading)
        row("ARN", role.arn)
        first, total = choice_index
        picker = f"{choice.label}: {choice.text}   [t: {first + 1}/{total}]"
        if not self.compact:
            row("Account", f"{role.account} ({role.account_id})")
            if role.description:
                row("About", role.description)
            facts = [role.region, format_duration(role.duration)]
            if role.mfa_serial:
                facts.append(f"MFA {role.mfa_serial}")
            if role.external_id:
                facts.append("external id")
            row("Settings", " · ".join(facts))
            row("Chain", self._chain(catalogue, role))
            row("Template", picker)
        name, arn, problem = preview(role, choice.text, variables, context)
        if name:
            value = Text(inert(mask(name, presenter)), style="green" if not problem else "yellow")
            value.append(f"  ({inert(problem)})" if problem else "  ✓ valid", style="dim")
            if self.compact:
                value.append(f"  [t: {first + 1}/{total} {inert(choice.label)}]", style="dim")
            text.add("Name", value)
            label = "CloudTrail" if self.compact else "CloudTrail will show:"
            text.add(label, Text(inert(mask(arn, presenter))))
        else:
            text.add("Name", Text(inert(problem or ""), style="red"))
        self._shown = text
        self.refresh(layout=True)

    @staticmethod
    def _chain(catalogue: Catalogue, role: Role) -> str:
        hops = []
        for hop in catalogue.chain(role):
            limits = [format_duration(hop.duration)]
            if hop.mfa_serial:
                limits.append("MFA")
            if hop.external_id:
                limits.append("ext id")
            hops.append(f"{hop.target} ({', '.join(limits)})")
        source = catalogue.chain(role)[0].source_profile
        you = f"you [{source}]" if source else "you"
        return " → ".join([you, *hops])
