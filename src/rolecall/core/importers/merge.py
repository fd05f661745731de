"""From a draft to catalogue TOML: a fresh catalogue, or a merge that never clobbers.

Merging matches accounts by id and roles by name (case-insensitive). What the catalogue
already has is kept exactly as it is — names, fields, order — and only reported when the
source disagrees; new accounts and roles are added after the existing ones, sorted, so a
re-import of the same source is byte-identical and a changed source gives a small diff.
Roles the source no longer has are reported, and removed only when asked (`prune`), and
never while another role still chains through them.

The result is proven with the catalogue's own validator (`catalogue.parse`). Whatever the
validator refuses in the imported part is dropped (a bad region, duration or session name:
the role is kept without it) or left out (a role whose source, MFA serial or external id is
unusable), with the validator's reason in the report. The output therefore always passes
`rolecall check`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from rolecall.core.catalogue.model import (
    CHAINED_MAX_DURATION,
    SCHEMA_VERSION,
    Catalogue,
    CatalogueError,
    Problem,
    parse,
    parse_duration,
)
from rolecall.core.importers.draft import (
    ACCOUNT_KEY_ORDER,
    ROLE_KEY_ORDER,
    Claim,
    Draft,
    DraftAccount,
    DraftRole,
    Skipped,
    unique_name,
)
from rolecall.core.importers.errors import ImportFailed, ImportSourceError
from rolecall.core.text import inert, show

_PROBLEM_KEY = re.compile(r"accounts\[(\d+)\](?:\.roles\[(\d+)\])?(?:\.(.+))?")
_DROPPABLE_ROLE_KEYS = frozenset({"region", "duration", "session_name", "tags", "description"})
"""Role keys an import can leave out and still mean the same role (with a note)."""
_DROPPABLE_ACCOUNT_KEYS = frozenset({"region", "tags", "description"})
_MAX_ROUNDS = 50
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
        ours = "unset" if self.ours is None else _value(self.ours)
        return f"{self.subject}: {self.key} is {ours} here, {_value(self.theirs)} in the source"


@dataclass(frozen=True)
class ImportReport:
    """What an import did, for the person who ran it."""

    source: str
    accounts: int
    """Accounts of the result that the source describes."""
    roles: int
    """Roles of the result that the source describes."""
    added_accounts: tuple[str, ...]
    added_roles: tuple[str, ...]
    kept_roles: tuple[str, ...]
    """Roles the catalogue already had; their values stayed."""
    differences: tuple[Difference, ...]
    missing: tuple[str, ...]
    """Roles of the catalogue that the source does not have (still in the result)."""
    removed: tuple[str, ...]
    """Roles removed because the source no longer has them (`prune`)."""
    skipped: tuple[Skipped, ...]
    notes: tuple[str, ...]
    reformatted: bool
    """Whether the merge rewrote the existing file's layout (quoting, table style)."""


@dataclass(frozen=True)
class ImportResult:
    """The catalogue text, the validated catalogue and the report."""

    text: str
    catalogue: Catalogue
    report: ImportReport


def build(draft: Draft, existing: str | None, file: str, *, prune: bool = False) -> ImportResult:
    """Turn `draft` into catalogue TOML, merged into `existing` (catalogue text) if given.

    `file` names the catalogue in messages. Raises `ImportSourceError` if `existing` is not a
    valid catalogue (nothing is merged into a broken file).
    """
    base = _existing_document(existing, file) if existing is not None else None
    accounts = copy.deepcopy(draft.accounts)  # repairs drop fields; the caller's draft stays
    skipped = list(draft.skipped)
    notes = list(draft.notes)
    excluded: dict[tuple[str, str], str] = {}
    for _ in range(_MAX_ROUNDS):
        merged = _merge(accounts, base, excluded, draft.claims, prune=prune)
        text = render(merged.doc)
        try:
            catalogue = parse(text.encode("utf-8"), file)
        except CatalogueError as e:
            if not _repair(e.problems, merged, excluded, skipped, notes):
                raise ImportFailed(
                    f"the merged catalogue would not pass check: {e.problems[0]}",
                    hint="this is a bug in rolecall import; please report it with the source",
                ) from e
            continue
        notes.extend(merged.notes)
        if base is not None:
            notes.extend(_inherited(catalogue, merged))
        source_ids = {a.id for a in accounts}
        described = [r for r in catalogue if r.account_id in source_ids]
        report = ImportReport(
            source=draft.source,
            accounts=len({r.account_id for r in described}),
            roles=len(merged.added_roles) + len(merged.kept_roles),
            added_accounts=tuple(merged.added_accounts),
            added_roles=tuple(merged.added_roles),
            kept_roles=tuple(merged.kept_roles),
            differences=tuple(merged.differences),
            missing=tuple(merged.missing),
            removed=tuple(merged.removed),
            skipped=tuple([*skipped, *merged.skipped]),
            notes=tuple(notes),
            reformatted=existing is not None and base is not None and render(base) != existing,
        )
        return ImportResult(text, catalogue, report)
    raise ImportFailed(
        "the imported catalogue still did not pass check after many repairs.",
        hint="this is a bug in rolecall import; please report it with the source",
    )


# ---------------------------------------------------------------------------------------------
# Rendering


def render(document: dict[str, Any]) -> str:
    """Catalogue TOML for `document`, values written by tomli-w.

    The layout is fixed rather than left to tomli-w's heuristics, which write an array of
    small tables inline and switch to `[[...]]` once one of them grows: every account is an
    `[[accounts]]` table and every role an `[[accounts.roles]]` table, always, so that adding
    one long role never rewrites its neighbours.
    """
    import tomli_w

    top = {key: value for key, value in document.items() if key != "accounts"}
    parts = [tomli_w.dumps(top)]
    for account in document.get("accounts", []):
        parts.append("\n[[accounts]]\n")
        parts.append(_body({k: v for k, v in account.items() if k != "roles"}))
        for role in account.get("roles", []):
            parts.append("\n[[accounts.roles]]\n")
            parts.append(_body(role))
    return "".join(parts)


def _body(table: dict[str, Any]) -> str:
    import tomli_w

    lines = []
    for key, value in table.items():
        if isinstance(value, dict):
            # Inline, like a hand-written `session_tags = { team = "payments" }`.
            pairs = ", ".join(tomli_w.dumps({k: v}).rstrip("\n") for k, v in value.items())
            name = tomli_w.dumps({key: 0}).rsplit(" = ", 1)[0]
            lines.append(f"{name} = {{ {pairs} }}\n" if pairs else f"{name} = {{}}\n")
        else:
            lines.append(tomli_w.dumps({key: value}))
    return "".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return show(value)


# ---------------------------------------------------------------------------------------------
# Merging


@dataclass
class _Merged:
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


def _existing_document(text: str, file: str) -> dict[str, Any]:
    import tomllib

    try:
        parse(text.encode("utf-8"), file)
    except CatalogueError as e:
        count = len(e.problems)
        raise ImportSourceError(
            f"{inert(file)} is not a valid catalogue ({count} problem{'s' if count > 1 else ''}: "
            f"{e.problems[0]}), so nothing was merged into it.",
            hint=f"run `rolecall check {inert(file)}` and fix it first",
        ) from e
    return tomllib.loads(text)


def _merge(
    drafts: list[DraftAccount],
    base: dict[str, Any] | None,
    excluded: dict[tuple[str, str], str],
    claims: Claim,
    *,
    prune: bool,
) -> _Merged:
    doc: dict[str, Any] = copy.deepcopy(base) if base is not None else {"version": SCHEMA_VERSION}
    merged = _Merged(doc)
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
    merged: _Merged,
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
    merged: _Merged,
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
    merged: _Merged,
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


# ---------------------------------------------------------------------------------------------
# Repairs and checks


def _repair(
    problems: tuple[Problem, ...],
    merged: _Merged,
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


def _inherited(catalogue: Catalogue, merged: _Merged) -> list[str]:
    """Notes for added roles that take a source, MFA or external id from the existing
    catalogue's defaults or account rather than from the import."""
    notes = []
    for target, intent in merged.intents.items():
        role = catalogue.get(target)
        if role is None:
            continue
        if intent.via is None and role.via is not None:
            notes.append(f"{target} chains through {role.via}, which its account sets (via).")
        elif intent.via is None and role.source_profile != intent.fields.get("source_profile"):
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
