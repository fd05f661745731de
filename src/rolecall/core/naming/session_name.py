"""Session-name templates: parse, render, sanitise, and preview the CloudTrail identity.

`RoleSessionName` is the attribution of an assumed session: it is part of the assumed-role
ARN (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`) that the role's account sees in
CloudTrail. Templates make it meaningful; rendering makes it valid (AWS accepts 2-64 ASCII
characters of `[A-Za-z0-9_+=,.@-]`; Python's `\\w` is Unicode and would be wrong here).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import NamedTuple

from rolecall.core.errors import FreeVariableMissing, TemplateError
from rolecall.core.text import show

VALID_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{2,64}")
"""What STS accepts for `RoleSessionName` and `SourceIdentity` (ASCII only)."""

_OUTSIDE = re.compile(r"[^A-Za-z0-9_+=,.@-]")
_DASHES = re.compile(r"-{2,}")
_TOKEN = re.compile(r"\{([^{}]*)\}|([{}])")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

BUILTINS: frozenset[str] = frozenset(
    {"user", "host", "date", "time", "epoch", "rand", "account", "account_id", "role", "caller"}
)
"""Placeholders rolecall fills itself; any other name is a free variable."""

_FIXED_WIDTH = {"date": 8, "time": 6, "epoch": 10, "rand": 6, "account_id": 12}
MAX_LENGTH = 64
"""STS's upper bound for session names and source identities."""


class Template(NamedTuple):
    """A parsed template: literal text and `{placeholder}` names, in order."""

    text: str
    """The template as written."""
    parts: tuple[tuple[bool, str], ...]
    """`(is_placeholder, text)` pairs in order."""

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Every placeholder name, in order, without repeats."""
        return tuple(dict.fromkeys(text for is_ph, text in self.parts if is_ph))

    @property
    def free_variables(self) -> tuple[str, ...]:
        """Placeholder names that are not built-ins: the user must supply them."""
        return tuple(n for n in self.placeholders if n not in BUILTINS)

    def max_length(self) -> int | None:
        """The longest possible rendering, or None when a placeholder is unbounded."""
        total = 0
        for is_ph, text in self.parts:
            if not is_ph:
                total += len(sanitise_raw(text))
            elif text in _FIXED_WIDTH:
                total += _FIXED_WIDTH[text]
            else:
                return None
        return total


def parse_template(text: str) -> Template:
    """Parse `text`; raise `TemplateError` for unbalanced braces or bad placeholder names."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() > pos:
            parts.append((False, text[pos : match.start()]))
        if match.group(2) is not None:
            raise TemplateError(
                f"template {show(text)} has an unmatched '{match.group(2)}'.",
                hint="placeholders look like {user}; braces cannot appear on their own",
            )
        name = match.group(1)
        if not _VARIABLE.fullmatch(name):
            raise TemplateError(
                f"template {show(text)} has a bad placeholder {show('{' + name + '}')}.",
                hint="placeholder names are letters, digits and _, e.g. {user} or {ticket}",
            )
        parts.append((True, name))
        pos = match.end()
    if pos < len(text):
        parts.append((False, text[pos:]))
    return Template(text=text, parts=tuple(parts))


def sanitise_raw(value: str) -> str:
    """Replace every character STS refuses with '-' and collapse runs of '-' (no length cut)."""
    return _DASHES.sub("-", _OUTSIDE.sub("-", value))


def sanitise(value: str) -> str:
    """`sanitise_raw`, then cut to 64 characters: the form STS will accept if long enough."""
    return sanitise_raw(value)[:MAX_LENGTH]


def check_name(value: str, what: str = "session name") -> str:
    """Return `value` if it is a valid session name / source identity, else raise."""
    if not VALID_NAME.fullmatch(value):
        raise TemplateError(
            f"the {what} {show(value)} is not valid.",
            hint="it must be 2-64 characters of letters, digits and _ + = , . @ -",
        )
    if what == "source identity" and value.lower().startswith("aws:"):
        raise TemplateError(f"the source identity {show(value)} may not start with 'aws:'.")
    return value


def random_suffix() -> str:
    """Six characters of `[a-z0-9]` from the system's CSPRNG, for `{rand}`."""
    import secrets  # deferred: only rendering {rand} needs it

    return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6))


def local_user() -> str:
    """The local login name for `{user}`."""
    import getpass  # deferred: the cached fast paths never render a name

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (containers)
        return os.environ.get("USER") or "unknown"


def short_host() -> str:
    """The short host name for `{host}`."""
    import socket

    return socket.gethostname().split(".")[0]


class NameContext:
    """Everything a template can draw on besides the role itself."""

    __slots__ = ("caller", "host", "now", "rand", "user", "variables")

    def __init__(
        self,
        user: str | None = None,
        host: str | None = None,
        now: datetime | None = None,
        variables: Mapping[str, str] | None = None,
        caller: str | None = None,
        rand: Callable[[], str] = random_suffix,
    ) -> None:
        self.user = local_user() if user is None else user
        """Local login name for `{user}`."""
        self.host = short_host() if host is None else host
        """Short host name for `{host}`."""
        self.now = datetime.now(UTC) if now is None else now
        """The moment of rendering, for `{date}`, `{time}` and `{epoch}` (UTC)."""
        self.variables: Mapping[str, str] = {} if variables is None else variables
        """Values of free variables (`--var NAME=VALUE`, or asked for by the TUI)."""
        self.caller = caller
        """Last segment of the source identity's ARN, for `{caller}`; None until known."""
        self.rand = rand
        """Source of `{rand}`: six characters of `[a-z0-9]`."""


class RoleFacts(NamedTuple):
    """The role facts a template and the CloudTrail preview need."""

    account: str
    account_id: str
    role: str
    partition: str = "aws"


class RenderedName(NamedTuple):
    """A rendered session name and the identity CloudTrail will show for it."""

    name: str
    """The RoleSessionName that will be sent to STS."""
    arn: str
    """The assumed-role ARN: `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/NAME`."""


def render(template: Template | str, facts: RoleFacts, context: NameContext, what: str) -> str:
    """Render `template` for `facts`, sanitise, and validate (2-64 characters)."""
    parsed = template if isinstance(template, Template) else parse_template(template)
    missing = [n for n in parsed.free_variables if not context.variables.get(n)]
    if missing:
        raise FreeVariableMissing(missing)
    if "caller" in parsed.placeholders and not context.caller:
        raise TemplateError(
            f"the {what} template {show(parsed.text)} uses {{caller}}, which is not known yet.",
            hint="rolecall fills {caller} from GetCallerIdentity before assuming",
        )
    builtins = {
        "user": context.user,
        "host": context.host,
        "date": context.now.astimezone(UTC).strftime("%Y%m%d"),
        "time": context.now.astimezone(UTC).strftime("%H%M%S"),
        "epoch": str(int(context.now.timestamp())),
        "account": facts.account,
        "account_id": facts.account_id,
        "role": facts.role,
        "caller": context.caller or "",
    }
    pieces: list[str] = []
    for is_ph, text in parsed.parts:
        if not is_ph:
            pieces.append(text)
        elif text == "rand":
            pieces.append(context.rand())
        elif text in builtins:
            pieces.append(builtins[text])
        else:
            pieces.append(context.variables[text])
    return check_name(sanitise("".join(pieces)), what)


def assumed_role_arn(facts: RoleFacts, session_name: str) -> str:
    """The ARN CloudTrail shows for a session (the role path is never part of it)."""
    return f"arn:{facts.partition}:sts::{facts.account_id}:assumed-role/{facts.role}/{session_name}"


def render_session_name(
    template: Template | str, facts: RoleFacts, context: NameContext
) -> RenderedName:
    """Render a session name and the exact assumed-role ARN CloudTrail will show."""
    name = render(template, facts, context, "session name")
    return RenderedName(name=name, arn=assumed_role_arn(facts, name))


def render_source_identity(template: Template | str, facts: RoleFacts, context: NameContext) -> str:
    """Render a `SourceIdentity` (same rules as session names, and never `aws:...`)."""
    return render(template, facts, context, "source identity")
