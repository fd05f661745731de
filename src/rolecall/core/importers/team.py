"""Leaving a team's accounts to an include (`rolecall import ... --include FILE`).

A team keeps its accounts in a catalogue of its own; a member's catalogue includes it rather
than copying it. An import given such a file writes `include = [FILE]` and leaves out every
account the file (or what it includes) already defines, matched by id: those come from the
file. A role of the source chained `via` a role of such an account keeps its chain, written
as the file's own `ACCOUNT/ROLE`. A role the file's account does not have is left out with
the reason (it can only be added to the team's file), and so is a chain through it.
"""

from __future__ import annotations

import copy
import os
from dataclasses import replace
from pathlib import Path

from rolecall.core.catalogue.model import Catalogue
from rolecall.core.errors import UsageError
from rolecall.core.importers.draft import Draft, DraftAccount, Skipped
from rolecall.core.importers.errors import ImportSourceError
from rolecall.core.text import inert


def hand_over(draft: Draft, team: Catalogue, shown: str) -> Draft:
    """`draft` without the accounts `team` defines; chains into them point at `team`'s roles.

    `shown` names the team file in the report.
    """
    team_accounts = {a.id: a.name for a in team.accounts}
    team_roles = {(r.account_id, r.name.lower()): r.target for r in team}
    accounts: list[DraftAccount] = []
    skipped = list(draft.skipped)
    notes = list(draft.notes)
    handed = 0
    for account in draft.accounts:
        if account.id in team_accounts:
            handed += 1
            for role in account.roles:
                if (account.id, role.name.lower()) not in team_roles:
                    skipped.append(
                        Skipped(
                            role.origin or f"{account.name}/{role.name}",
                            f"its account {account.id} comes from {shown}, which has no role "
                            f"{role.name}; add it there",
                        )
                    )
            continue
        kept = copy.deepcopy(account)
        for role in kept.roles:
            if role.via is None or role.via[0] not in team_accounts:
                continue
            target = team_roles.get((role.via[0], role.via[1].lower()))
            if target is None:
                continue  # chains through a role left out above: merge leaves it out too
            role.fields["via"] = target
            role.via = None
        accounts.append(kept)
    if handed:
        notes.append(
            f"{handed} account{'s' if handed != 1 else ''} of the source "
            f"{'are' if handed != 1 else 'is'} defined in {inert(shown)}: included, not copied."
        )
    return replace(draft, accounts=accounts, skipped=skipped, notes=notes)


def load_team(path: Path, catalogue_file: Path | None) -> tuple[str, Catalogue]:
    """The `include` entry for the team catalogue at `path`, and that catalogue (validated).

    The entry is relative to the directory of `catalogue_file` (the catalogue being written;
    None: the working directory), as the loader reads it.
    """
    from rolecall.core.catalogue.model import CatalogueError
    from rolecall.core.catalogue.store import parse
    from rolecall.core.locations import check_trusted

    shown = inert(str(path))
    check_trusted(path, ancestors=False)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read the team catalogue {shown}: {e.strerror}.") from None
    try:
        team = parse(data, str(path))
    except CatalogueError as e:
        raise ImportSourceError(
            f"{shown} is not a valid catalogue ({e.problems[0]}), so it cannot be included.",
            hint=f"run `rolecall check {shown}`",
        ) from e
    start = catalogue_file.absolute().parent if catalogue_file is not None else Path.cwd()
    return os.path.relpath(path.absolute(), start), team


def refuse_copies(existing: str | None, team: Catalogue, shown: str) -> None:
    """Refuse to include `team` into a catalogue that already has some of its accounts."""
    if existing is None:
        return
    import tomllib

    ids = {a.id: a.name for a in team.accounts}
    accounts = tomllib.loads(existing).get("accounts", [])
    copies = sorted(str(a.get("name")) for a in accounts if str(a.get("id")) in ids)
    if copies:
        raise ImportSourceError(
            f"the catalogue already has {', '.join(copies)}, which {inert(shown)} defines; "
            "an account cannot be in both.",
            hint="remove them from the catalogue first, then include the team file",
        )
