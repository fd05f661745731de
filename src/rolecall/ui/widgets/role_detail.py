"""RoleDetail: everything about the highlighted role, and what CloudTrail will show.

All catalogue text goes into `rich.text.Text` objects, which are never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import Static

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


class RoleDetail(Static):
    """The detail pane for the highlighted role."""

    DEFAULT_CSS = """
    RoleDetail {
        height: auto;
        padding: 0 1;
    }
    """

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
        if role is None or choice is None:
            self.update(Text("No role matches the search.", style="dim"))
            return
        text = Text()

        def row(label: str, value: str, style: str = "") -> None:
            text.append(f"{label:<11}", style="bold")
            text.append(inert(mask(value, presenter)) + "\n", style=style)

        text.append(inert(role.target), style="bold")
        if role.is_prod:
            text.append("  PROD", style="bold red")
        if role.confirm:
            text.append("  (confirm)", style="yellow")
        text.append("\n")
        row("ARN", role.arn)
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
        first, total = choice_index
        row("Template", f"{choice.label}: {choice.text}   [t: {first + 1}/{total}]")
        name, arn, problem = preview(role, choice.text, variables, context)
        if name:
            text.append(f"{'Name':<11}", style="bold")
            text.append(inert(name), style="green" if not problem else "yellow")
            text.append(f"  ({inert(problem)})\n" if problem else "  ✓ valid\n", style="dim")
            text.append("CloudTrail will show: ", style="bold")
            text.append(inert(mask(arn, presenter)) + "\n")
        else:
            text.append("Name       ", style="bold")
            text.append(inert(problem or "") + "\n", style="red")
        self.update(text)

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
