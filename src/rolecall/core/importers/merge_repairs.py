"""After the validator: repairing what it refused in the imported part of a merge, and noting
what added roles inherit from the existing catalogue.

A refused value an import can do without is dropped (the role is kept without it); otherwise
the role is left out, with the validator's reason.
"""

from __future__ import annotations

import re

from rolecall.core.catalogue.model import Catalogue, Problem
from rolecall.core.importers.draft import DraftAccount, DraftRole, Skipped
from rolecall.core.importers.merge_document import Location, Merged
from rolecall.core.text import show

_PROBLEM_KEY = re.compile(r"accounts\[(\d+)\](?:\.roles\[(\d+)\])?(?:\.(.+))?")
_DROPPABLE_ROLE_KEYS = frozenset({"region", "duration", "session_name", "tags", "description"})
"""Role keys an import can leave out and still mean the same role (with a note)."""
_DROPPABLE_ACCOUNT_KEYS = frozenset({"region", "tags", "description"})


def repair(
    problems: tuple[Problem, ...],
    merged: Merged,
    excluded: dict[tuple[str, str], str],
    skipped: list[Skipped],
    notes: list[str],
) -> bool:
    """Drop or leave out what the validator refused in the imported part; False if a problem
    lies in what the catalogue already had (nothing to repair there)."""
    changed = False
    # A dangling `via` is often the echo of another problem (its target was refused): repair
    # the rest first, so the next round can name the real reason.
    others = [p for p in problems if not p.key.endswith(".via")]
    for problem in others or problems:
        match = _PROBLEM_KEY.fullmatch(problem.key)
        if match is None:
            return False
        location: Location = (int(match[1]), int(match[2]) if match[2] else None)
        origin = merged.origins.get(location)
        if origin is None:
            return False
        account, role = origin
        key = re.split(r"[.\[]", match[3] or "", maxsplit=1)[0]
        reason = f"{key}: {problem.message}" if key else problem.message
        if role is None:
            if key in _DROPPABLE_ACCOUNT_KEYS and key in account.fields:
                del account.fields[key]
                notes.append(f"account {account.name}: {key} left out ({problem.message})")
                changed = True
            else:
                for each in account.roles:
                    changed |= _exclude(account, each, reason, excluded, skipped)
        elif key in _DROPPABLE_ROLE_KEYS and key in role.fields:
            del role.fields[key]
            notes.append(f"{role.origin}: {key} left out ({problem.message})")
            changed = True
        else:
            changed |= _exclude(account, role, reason, excluded, skipped)
    return changed


def _exclude(
    account: DraftAccount,
    role: DraftRole,
    reason: str,
    excluded: dict[tuple[str, str], str],
    skipped: list[Skipped],
) -> bool:
    key = account.role_key(role)
    if key in excluded:
        return False
    excluded[key] = reason
    skipped.append(Skipped(role.origin or f"{account.name}/{role.name}", reason))
    return True


def inherited_notes(catalogue: Catalogue, merged: Merged) -> list[str]:
    """Notes for added roles that take a source, MFA or external id from the existing
    catalogue's defaults or account rather than from the import."""
    notes = []
    for target, intent in merged.intents.items():
        role = catalogue.get(target)
        if role is None:
            continue
        chained = intent.via is not None or "via" in intent.fields  # (a team file's role)
        if not chained and role.via is not None:
            notes.append(f"{target} chains through {role.via}, which its account sets (via).")
        elif not chained and role.source_profile != intent.fields.get("source_profile"):
            meant = intent.fields.get("source_profile")
            notes.append(
                f"{target} uses source_profile {show(role.source_profile)} from the catalogue; "
                + (
                    f"the source uses {show(meant)}."
                    if meant
                    else "the source means the default credential chain."
                )
            )
        for key in ("mfa_serial", "external_id"):
            value = getattr(role, key)
            if value is not None and key not in intent.fields:
                notes.append(f"{target} inherits {key} {show(value)} from the catalogue.")
    return notes
