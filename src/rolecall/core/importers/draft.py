"""What an importer found, before it becomes TOML: draft accounts and roles, what had to be
left out (with the reason), and how names from AWS are made into valid catalogue names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_KEY_ORDER = ("name", "id", "region", "tags", "description")
"""Account keys in the order an import writes them."""

ROLE_KEY_ORDER = (
    "name",
    "path",
    "region",
    "source_profile",
    "via",
    "mfa_serial",
    "external_id",
    "duration",
    "session_name",
    "tags",
    "description",
)
"""Role keys in the order an import writes them."""

Claim = Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
"""Whether the source speaks for an existing `(account table, role table)` of a catalogue:
only such roles are reported as "not in the source" (and removed by a prune)."""


@dataclass
class DraftRole:
    """One role as the source describes it."""

    name: str
    fields: dict[str, Any] = field(default_factory=dict)
    """Catalogue keys other than `name` and `via` (path, region, source_profile, ...)."""
    via: tuple[str, str] | None = None
    """`(account id, role name)` of the draft role to chain through, or None."""
    origin: str = ""
    """Where it came from, for reports: `profile "payments-admin"`."""


@dataclass
class DraftAccount:
    """One account as the source describes it."""

    id: str
    name: str
    """Wanted catalogue name (valid; made unique when merged)."""
    fields: dict[str, Any] = field(default_factory=dict)
    """region, tags, description."""
    roles: list[DraftRole] = field(default_factory=list)

    def role_key(self, role: DraftRole) -> tuple[str, str]:
        """`(account id, lower-cased role name)`: how roles are matched."""
        return (self.id, role.name.lower())


@dataclass(frozen=True)
class Skipped:
    """Something of the source that cannot be expressed in a catalogue, and why."""

    subject: str
    """`profile "x"`, `account 111111111111 "Sandbox"`, ..."""
    reason: str


@dataclass
class Draft:
    """Everything one import found."""

    source: str
    """What was read, for reports: a file name, `AWS Organizations`, a start URL."""
    accounts: list[DraftAccount]
    claims: Claim
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Things imported with an adjustment, or worth knowing."""


# ---------------------------------------------------------------------------------------------
# Names

_NOT_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_DASHES = re.compile(r"-{2,}")
MAX_NAME = 64


def ascii_fold(text: str) -> str:
    """`Zürich Prod` → `Zurich Prod`: accents dropped, anything else non-ASCII removed."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def account_name(text: str, account_id: str, *, lower: bool) -> str:
    """A valid catalogue account name (`[A-Za-z0-9._-]{1,64}`) from a name AWS gave.

    Runs of other characters become one `-`; an empty result falls back to
    `account-ACCOUNT_ID`. Organizations and Identity Center names are lower-cased (they are
    typed in targets); names taken from the user's own profile names keep their case.
    """
    name = _DASHES.sub("-", _NOT_NAME.sub("-", ascii_fold(text))).strip("-.")
    if lower:
        name = name.lower()
    name = name[:MAX_NAME].rstrip("-.")
    return name or f"account-{account_id}"


def unique_name(wanted: str, account_id: str, taken: set[str]) -> str:
    """`wanted`, or a variant with the account id's last 4 digits (then all 12) if another
    account already has the name (case-insensitively). Adds the result to `taken`."""
    candidates = [
        wanted,
        f"{wanted[: MAX_NAME - 5]}-{account_id[-4:]}",
        f"{wanted[: MAX_NAME - 13]}-{account_id}",
    ]
    number = 2
    while True:
        for candidate in candidates:
            if candidate.lower() not in taken:
                taken.add(candidate.lower())
                return candidate
        suffix = f"-{account_id}-{number}"
        candidates = [f"{wanted[: MAX_NAME - len(suffix)]}{suffix}"]
        number += 1


def tag(text: str) -> str | None:
    """A catalogue tag from an OU name: `Prod Workloads` → `prod-workloads`; None if empty."""
    value = _DASHES.sub("-", _NOT_NAME.sub("-", ascii_fold(text))).strip("-.").lower()
    return value[:MAX_NAME].rstrip("-.") or None
