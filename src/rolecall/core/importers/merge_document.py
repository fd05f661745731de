"""Merging a draft's accounts and roles into a catalogue document, never clobbering it.

Accounts match by id and roles by name (case-insensitive). What the catalogue already has is
kept as it is and only reported where the source differs; new accounts and roles are added
after the existing ones, sorted. Roles the source no longer has are reported, and removed only
when asked (`prune`), and never while another role still chains through them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from rolecall.core.catalogue.model import CHAINED_MAX_DURATION, SCHEMA_VERSION, parse_duration
from rolecall.core.importers.draft import (
    ACCOUNT_KEY_ORDER,
    ROLE_KEY_ORDER,
    Claim,
    DraftAccount,
    DraftRole,
    Skipped,
    unique_name,
)
from rolecall.core.text import show

_DEFAULT_REGION = "us-east-1"

Location = tuple[int, int | None]
"""`(account index, role index or None)` in the merged document."""


@dataclass(frozen=True)
class Difference:
    """A value the source has that the catalogue does not share; the catalogue's stays."""

    subject: str
    """`ACCOUNT/ROLE`, or an account name."""
    key: str
    ours: Any
    """The catalogue's value (None: the key is not set)."""
    theirs: Any
    """The source's value."""

    def __str__(self) -> str:
        ours = "unset" if self.ours is None else show_value(self.ours)
        return f"{self.subject}: {self.key} is {ours} here, {show_value(self.theirs)} in the source"


def show_value(value: Any) -> str:
    """A value for a report line: a list item by item, anything else as `show` writes it."""
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return show(value)


@dataclass
class Merged:
    """A merged document, with what each part came from and what to report."""

    doc: dict[str, Any]
    origins: dict[Location, tuple[DraftAccount, DraftRole | None]] = field(default_factory=dict)
    """What each added account or role came from (existing entries are absent)."""
    intents: dict[str, DraftRole] = field(default_factory=dict)
    """Added roles by target, to compare with what they inherit."""
    added_accounts: list[str] = field(default_factory=list)
    added_roles: list[str] = field(default_factory=list)
    kept_roles: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def merge_drafts(
    drafts: list[DraftAccount],
    base: dict[str, Any] | None,
    excluded: dict[tuple[str, str], str],
    claims: Claim,
    *,
    prune: bool,
) -> Merged:
    """`drafts` merged into `base` (a catalogue document; None: a fresh catalogue), without
    the roles in `excluded` or any role that chains through one."""
    doc: dict[str, Any] = copy.deepcopy(base) if base is not None else {"version": SCHEMA_VERSION}
    merged = Merged(doc)
    ordered = sorted(drafts, key=lambda a: (a.name.lower(), a.id))
    roles_by_key = {a.role_key(r): (a, r) for a in ordered for r in a.roles}
    left_out = _close_over_via(ordered, roles_by_key, excluded, merged)

    accounts: list[dict[str, Any]] = doc.setdefault("accounts", [])
    source_keys = set(roles_by_key)
    _missing_and_prune(accounts, source_keys, claims, merged, prune=prune)

    by_id = {str(a.get("id")): i for i, a in enumerate(accounts)}
    taken = {str(a.get("name", "")).lower() for a in accounts}
    names: dict[str, str] = {}
    for account in ordered:
        if account.id in by_id:
            names[account.id] = str(accounts[by_id[account.id]]["name"])
        elif any(account.role_key(r) not in left_out for r in account.roles):
            names[account.id] = unique_name(account.name, account.id, taken)
    role_names: dict[tuple[str, str], str] = {}
    for account in ordered:
        existing = _roles_by_name(accounts[by_id[account.id]]) if account.id in by_id else {}
        for role in account.roles:
            found = existing.get(role.name.lower())
            role_names[account.role_key(role)] = str(found["name"]) if found else role.name

    for account in ordered:
        live = sorted(
            (r for r in account.roles if account.role_key(r) not in left_out),
            key=lambda r: r.name.lower(),
        )
        if account.id in by_id:
            index = by_id[account.id]
            _into_existing(doc, index, account, live, names, role_names, merged)
        elif live:
            table: dict[str, Any] = {"name": names[account.id], "id": account.id}
            table.update(_ordered(account.fields, ACCOUNT_KEY_ORDER))
            table["roles"] = [_role_table(doc, account, r, names, role_names, None) for r in live]
            accounts.append(table)
            index = len(accounts) - 1
            merged.origins[(index, None)] = (account, None)
            merged.added_accounts.append(table["name"])
            for j, role in enumerate(live):
                merged.origins[(index, j)] = (account, role)
                target = f"{table['name']}/{role.name}"
                merged.added_roles.append(target)
                merged.intents[target] = role
    if not accounts:
        del doc["accounts"]
    return merged


def _close_over_via(
    ordered: list[DraftAccount],
    roles_by_key: dict[tuple[str, str], tuple[DraftAccount, DraftRole]],
    excluded: dict[tuple[str, str], str],
    merged: Merged,
) -> dict[tuple[str, str], str]:
    """`excluded` plus every role that chains through a left-out role."""
    left_out = dict(excluded)
    changed = True
    while changed:
        changed = False
        for account in ordered:
            for role in account.roles:
                key = account.role_key(role)
                if key in left_out or role.via is None:
                    continue
                target = (role.via[0], role.via[1].lower())
                if target in left_out or target not in roles_by_key:
                    reason = (
                        f"it chains through {roles_by_key[target][1].origin}, which was left out"
                        if target in roles_by_key
                        else "it chains through a role that was left out"
                    )
                    left_out[key] = reason
                    merged.skipped.append(Skipped(role.origin, reason))
                    changed = True
    return left_out


def _missing_and_prune(
    accounts: list[dict[str, Any]],
    source_keys: set[tuple[str, str]],
    claims: Claim,
    merged: Merged,
    *,
    prune: bool,
) -> None:
    missing: list[tuple[int, int]] = []
    for i, account in enumerate(accounts):
        for j, role in enumerate(account.get("roles", [])):
            key = (str(account.get("id")), str(role.get("name", "")).lower())
            if key not in source_keys and claims(account, role):
                missing.append((i, j))
    if not missing:
        return

    def target(at: tuple[int, int]) -> str:
        return f"{accounts[at[0]]['name']}/{accounts[at[0]]['roles'][at[1]]['name']}"

    if not prune:
        merged.missing.extend(target(m) for m in missing)
        return
    remove = set(missing)
    while True:
        referenced = _via_references(accounts, remove)
        protected = {
            m
            for m in remove
            if {
                target(m).lower(),
                f"{accounts[m[0]]['id']}/{accounts[m[0]]['roles'][m[1]]['name']}".lower(),
            }
            & referenced
        }
        if not protected:
            break
        remove -= protected
        for m in sorted(protected):
            merged.missing.append(target(m))
            merged.notes.append(
                f"{target(m)} stays although the source no longer has it: "
                "another role chains through it (via)."
            )
    merged.removed.extend(target(m) for m in sorted(remove))
    emptied = []
    for i, account in enumerate(accounts):
        roles = account.get("roles", [])
        kept = [r for j, r in enumerate(roles) if (i, j) not in remove]
        if roles and not kept:
            emptied.append(i)
        elif len(kept) != len(roles):
            account["roles"] = kept
    for i in reversed(emptied):
        del accounts[i]


def _via_references(accounts: list[dict[str, Any]], remove: set[tuple[int, int]]) -> set[str]:
    """Lower-cased `via` targets of every role that stays (and of every account)."""
    refs: set[str] = set()
    for i, account in enumerate(accounts):
        if isinstance(account.get("via"), str):
            refs.add(account["via"].lower())
        for j, role in enumerate(account.get("roles", [])):
            if (i, j) not in remove and isinstance(role.get("via"), str):
                refs.add(role["via"].lower())
    return refs


def _roles_by_name(account: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(r.get("name", "")).lower(): r for r in account.get("roles", [])}


def _into_existing(
    doc: dict[str, Any],
    index: int,
    account: DraftAccount,
    live: list[DraftRole],
    names: dict[str, str],
    role_names: dict[tuple[str, str], str],
    merged: Merged,
) -> None:
    table = doc["accounts"][index]
    name = str(table["name"])
    for key in ACCOUNT_KEY_ORDER[2:]:
        if key in account.fields and not _same(key, table.get(key), account.fields[key]):
            merged.differences.append(Difference(name, key, table.get(key), account.fields[key]))
    existing = _roles_by_name(table)
    for role in live:
        wanted = _role_table(doc, account, role, names, role_names, table)
        found = existing.get(role.name.lower())
        if found is not None:
            target = f"{name}/{found['name']}"
            merged.kept_roles.append(target)
            for key, value in wanted.items():
                if key != "name" and not _same(key, found.get(key), value):
                    merged.differences.append(Difference(target, key, found.get(key), value))
            continue
        roles = table.setdefault("roles", [])
        roles.append(wanted)
        merged.origins[(index, len(roles) - 1)] = (account, role)
        target = f"{name}/{role.name}"
        merged.added_roles.append(target)
        merged.intents[target] = role
        if "duration" in wanted and "duration" not in role.fields:
            merged.notes.append(
                f"{target}: duration set to 1h, because its account's duration is too long "
                "for a chained role."
            )


def _role_table(
    doc: dict[str, Any],
    account: DraftAccount,
    role: DraftRole,
    names: dict[str, str],
    role_names: dict[tuple[str, str], str],
    existing_account: dict[str, Any] | None,
) -> dict[str, Any]:
    fields = dict(role.fields)
    if role.via is not None:
        via_key = (role.via[0], role.via[1].lower())
        fields["via"] = f"{names[role.via[0]]}/{role_names[via_key]}"
    if existing_account is not None:
        # The role joins an account the catalogue already has: keep what the source means
        # even where that account's own settings differ.
        region = account.fields.get("region")
        if "region" not in fields and region and region != _region_of(doc, existing_account):
            fields["region"] = region
        if "via" in fields and "duration" not in fields:
            inherited = parse_duration(existing_account.get("duration"))
            if inherited is not None and inherited > CHAINED_MAX_DURATION:
                fields["duration"] = "1h"
    table: dict[str, Any] = {"name": role.name}
    table.update(_ordered(fields, ROLE_KEY_ORDER))
    return table


def _ordered(fields: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    out = {key: fields[key] for key in order if key in fields}
    out.update({key: value for key, value in fields.items() if key not in out})
    return out


def _region_of(doc: dict[str, Any], account: dict[str, Any]) -> str:
    defaults = doc.get("defaults", {})
    return str(account.get("region") or defaults.get("region") or _DEFAULT_REGION)


def _same(key: str, ours: Any, theirs: Any) -> bool:
    if key == "duration":
        return parse_duration(ours) == parse_duration(theirs)
    if key == "via" and isinstance(ours, str) and isinstance(theirs, str):
        return ours.lower() == theirs.lower()
    return bool(ours == theirs)
