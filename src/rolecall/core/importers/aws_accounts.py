"""Grouping the role profiles of an AWS config into catalogue accounts.

Each account takes its partition from its roles' ARNs, its region from what most of its
profiles say, and its name from what its profile names share (`prod-admin`, `prod-ro` →
`prod`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rolecall.core.catalogue.model import partition_of
from rolecall.core.importers.draft import DraftAccount, DraftRole, account_name
from rolecall.core.text import show

PARTITION_DEFAULT_REGIONS = {
    "aws-us-gov": "us-gov-west-1",
    "aws-cn": "cn-north-1",
    "aws-iso": "us-iso-east-1",
    "aws-iso-b": "us-isob-east-1",
    "aws-iso-f": "us-isof-south-1",
    "aws-iso-e": "eu-isoe-west-1",
    "aws-eusc": "eusc-de-east-1",
}
"""A region for accounts outside the commercial partition whose profiles name none (the
catalogue derives the partition from the region)."""

_SEPARATORS = "-_./:@ "


@dataclass(frozen=True)
class ProfileRole:
    """A profile that becomes a catalogue role."""

    account_id: str
    partition: str | None
    """From the role ARN; for SSO profiles, guessed from the region (None if unknown)."""
    role: DraftRole
    region: str | None
    profile: str
    sso: bool = False


def group_accounts(
    roles: list[ProfileRole], skipped: dict[str, str], note: Callable[[str, str], None]
) -> list[DraftAccount]:
    """The accounts of `roles`, in first-seen order: partition, region and name from
    their profiles. A role whose ARN contradicts its account's partition goes into
    `skipped` (by profile); a region left out is told to `note(profile, text)`."""
    by_account: dict[str, list[ProfileRole]] = {}
    for found in roles:
        by_account.setdefault(found.account_id, []).append(found)
    accounts = []
    for account_id, members in by_account.items():
        # The role ARNs say which partition the account is in; SSO profiles only hint.
        partition = next(
            (m.partition for m in members if not m.sso),
            next((m.partition for m in members if m.partition), None),
        )
        kept = []
        for member in members:
            if not member.sso and member.partition != partition:
                skipped[member.profile] = (
                    f"its role ARN puts account {account_id} in partition "
                    f"{member.partition}, other profiles put it in {partition}"
                )
            else:
                kept.append(member)
        partition = partition or "aws"
        regions = []
        for member in kept:
            if member.region is None:
                continue
            if partition_of(member.region) is None:
                note(
                    member.profile,
                    f"region {show(member.region)} is not an AWS region; left out",
                )
            elif partition_of(member.region) != partition:
                note(
                    member.profile,
                    f"region {member.region} is outside the account's partition "
                    f"{partition}; left out",
                )
            else:
                regions.append(member.region)
        region = Counter(regions).most_common(1)[0][0] if regions else None
        region = region or PARTITION_DEFAULT_REGIONS.get(partition)
        fields: dict[str, Any] = {"region": region} if region else {}
        draft_roles = []
        for member in kept:
            role = member.role
            if member.region in regions and member.region != region:
                role.fields["region"] = member.region
            draft_roles.append(role)
        label = _account_label([_strip_role(m.profile, m.role.name) for m in kept])
        if not label:
            # Every profile is named after its role: what the names share, if that is not
            # itself just a role name.
            label = _account_label([m.profile for m in kept])
            if any(_squash(label) == _squash(m.role.name) for m in kept):
                label = ""
        name = account_name(label, account_id, lower=False) if label else f"account-{account_id}"
        accounts.append(DraftAccount(account_id, name, fields, draft_roles))
    return accounts


def _strip_role(profile: str, role: str) -> str:
    """`payments-prod-admin` for role `Admin` → `payments-prod` (`read-only` matches
    `ReadOnly`: separators and case are ignored); a profile named after the role → ``.

    Linear in the name: the squashed text after the first separator that leaves exactly the
    role's squashed length is a suffix of the squashed profile, so one comparison decides."""
    wanted = _squash(role)
    squashed = _squash(profile)
    if squashed == wanted:
        return ""
    if not squashed.endswith(wanted):
        return profile
    left = len(squashed)  # squashed length of what follows position i
    for i, char in enumerate(profile):
        if char in _SEPARATORS:
            if left == len(wanted):
                return profile[:i]
        else:
            left -= len(char.lower())
            if left < len(wanted):
                break
    return profile


def _squash(text: str) -> str:
    """`text` lower-cased, character by character, without separators."""
    return "".join(c.lower() for c in text if c not in _SEPARATORS)


def _account_label(candidates: list[str]) -> str:
    """What the profile names of one account share: `prod-admin`, `prod-ro` → `prod`.

    The shared prefix, cut back to a separator unless it already ends at one in every name
    (linear: each step is a single pass over the names)."""
    names = [c for c in candidates if c]
    if not names:
        return ""
    if all(n == names[0] for n in names):
        return names[0]
    # The prefix all names share is the one the least and the greatest of them share.
    low, high = min(names), max(names)
    end = next((i for i, (a, b) in enumerate(zip(low, high, strict=False)) if a != b), len(low))
    prefix = low[:end]
    at_boundary = bool(prefix) and (
        prefix[-1] in _SEPARATORS or all(len(n) == end or n[end] in _SEPARATORS for n in names)
    )
    if not at_boundary:
        cut = max(prefix.rfind(s) for s in _SEPARATORS)
        prefix = prefix[: cut + 1]  # "" when there is no separator (cut is -1)
    return prefix.rstrip(_SEPARATORS) or names[0]
