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

This module runs those rounds and reports: `merge_document` merges, `rendering` writes the
TOML and `merge_repairs` repairs what the validator refused.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rolecall.core.catalogue.model import SCHEMA_VERSION, Catalogue, CatalogueError
from rolecall.core.catalogue.store import parse
from rolecall.core.importers.draft import Draft, Skipped
from rolecall.core.importers.errors import ImportFailed, ImportSourceError
from rolecall.core.importers.merge_document import Difference, merge_drafts
from rolecall.core.importers.merge_repairs import inherited_notes, repair
from rolecall.core.importers.rendering import render
from rolecall.core.text import inert

_MAX_ROUNDS = 50


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


def build(
    draft: Draft,
    existing: str | None,
    file: str,
    *,
    prune: bool = False,
    include: Sequence[str] = (),
) -> ImportResult:
    """Turn `draft` into catalogue TOML, merged into `existing` (catalogue text) if given.

    `file` names the catalogue in messages (and relative includes start from its directory).
    `include` entries are added to the catalogue's `include` (`team.hand_over` has left
    their accounts out of `draft`). Raises `ImportSourceError` if `existing` is not a valid
    catalogue (nothing is merged into a broken file).
    """
    base = _existing_document(existing, file) if existing is not None else None
    reformatted = existing is not None and base is not None and render(base) != existing
    if include:
        base = _with_includes(base, include)
    accounts = copy.deepcopy(draft.accounts)  # repairs drop fields; the caller's draft stays
    skipped = list(draft.skipped)
    notes = list(draft.notes)
    excluded: dict[tuple[str, str], str] = {}
    for _ in range(_MAX_ROUNDS):
        merged = merge_drafts(accounts, base, excluded, draft.claims, prune=prune)
        text = render(merged.doc)
        try:
            catalogue = parse(text.encode("utf-8"), file)
        except CatalogueError as e:
            if not repair(e.problems, merged, excluded, skipped, notes):
                raise ImportFailed(
                    f"the merged catalogue would not pass check: {e.problems[0]}",
                    hint="this is a bug in rolecall import; please report it with the source",
                ) from e
            continue
        notes.extend(merged.notes)
        if base is not None:
            notes.extend(inherited_notes(catalogue, merged))
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
            reformatted=reformatted,
        )
        return ImportResult(text, catalogue, report)
    raise ImportFailed(
        "the imported catalogue still did not pass check after many repairs.",
        hint="this is a bug in rolecall import; please report it with the source",
    )


def _with_includes(base: dict[str, Any] | None, include: Sequence[str]) -> dict[str, Any]:
    """`base` (None: a fresh catalogue) with `include` entries added, right after `version`."""
    doc: dict[str, Any] = base if base is not None else {"version": SCHEMA_VERSION}
    entries: list[str] = list(doc.get("include", []))
    entries += [entry for entry in include if entry not in entries]
    rest = {key: value for key, value in doc.items() if key not in ("version", "include")}
    return {"version": doc.get("version", SCHEMA_VERSION), "include": entries, **rest}


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
