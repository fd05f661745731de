"""Import from AWS Organizations: every ACTIVE account, one role each.

`ListAccounts` is paginated at its maximum of 20 a page, and every page is followed while a
`NextToken` comes back, empty pages included (Organizations documents that it may send them).
An account is imported when its `State` is `ACTIVE`; the older `Status` field is retired and
never read. Account names become valid catalogue names; the organisational units on the way
from the root become the account's tags (`Root/Workloads/Prod` → `workloads`, `prod`, so
accounts of a Prod OU are confirmed before interactive use), when the caller may list them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rolecall.core.errors import RolecallError
from rolecall.core.importers.draft import Draft, DraftAccount, DraftRole, Skipped, account_name, tag
from rolecall.core.importers.errors import (
    ImportFailed,
    OrganizationsDenied,
    common_error,
    error_code,
)
from rolecall.core.text import inert, show
from rolecall.version import __version__

DEFAULT_ROLE = "OrganizationAccountAccessRole"
"""The role Organizations creates in every account it creates."""

PAGE_SIZE = 20
"""ListAccounts' maximum page size."""

SERVICE = "AWS Organizations"


@dataclass(frozen=True)
class OrgAccount:
    """One account as ListAccounts describes it."""

    id: str
    name: str
    state: str
    joined: str
    """JoinedMethod: CREATED or INVITED."""


@dataclass
class OrgListing:
    """Everything read from Organizations for one import."""

    accounts: list[OrgAccount]
    management_id: str | None = None
    ou_paths: dict[str, tuple[str, ...]] | None = None
    """Account id → OU names from the root down; None if they could not be read."""
    notes: list[str] = field(default_factory=list)


def client(profile: str | None, region: str | None, settings: Mapping[str, Any]) -> Any:
    """An Organizations client for `profile` (None: the default credential chain)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session(profile_name=profile)
        return session.client(
            "organizations",
            region_name=region or session.region_name or "us-east-1",
            config=Config(user_agent_extra=f"rolecall/{__version__}", **settings),
        )
    except BotoCoreError as e:
        raise _error(e, profile, "AWS Organizations") from None


def read(org: Any, profile: str | None, *, ou_tags: bool = True) -> OrgListing:
    """List the organisation's accounts (and, if asked, their OU paths) with `org`."""
    from botocore.exceptions import BotoCoreError, ClientError

    aws_errors = (BotoCoreError, ClientError, OSError)
    endpoint = str(getattr(getattr(org, "meta", None), "endpoint_url", SERVICE))
    try:
        accounts = []
        pages = org.get_paginator("list_accounts").paginate(
            PaginationConfig={"PageSize": PAGE_SIZE}
        )
        for page in pages:
            for item in page.get("Accounts", []):
                accounts.append(
                    OrgAccount(
                        id=str(item.get("Id", "")),
                        name=str(item.get("Name", "")),
                        state=str(item.get("State", "")),
                        joined=str(item.get("JoinedMethod", "")),
                    )
                )
    except aws_errors as e:
        raise _error(e, profile, endpoint) from None
    listing = OrgListing(accounts)
    try:
        described = org.describe_organization()
        listing.management_id = described.get("Organization", {}).get("MasterAccountId")
    except aws_errors:
        pass  # it only explains why the management account has no role; optional
    if ou_tags:
        try:
            listing.ou_paths = _ou_paths(org)
        except aws_errors as e:
            code, _, _ = error_code(e)
            listing.notes.append(
                "accounts carry no OU tags: the organisational units could not be read "
                f"({inert(code) or type(e).__name__})."
            )
    return listing


def draft(
    listing: OrgListing,
    role_name: str,
    source_profile: str | None,
    region: str | None = None,
) -> Draft:
    """A draft with `role_name` in every ACTIVE account of `listing`."""
    accounts = []
    skipped = []
    notes = list(listing.notes)
    invited = []
    for account in sorted(listing.accounts, key=lambda a: a.id):
        subject = f"account {account.id} {show(account.name)}"
        if account.state != "ACTIVE":
            state = account.state or "missing"
            skipped.append(Skipped(subject, f"its State is {inert(state)}, not ACTIVE"))
            continue
        if account.id == listing.management_id and role_name == DEFAULT_ROLE:
            skipped.append(
                Skipped(
                    subject,
                    f"it is the management account, which has no {DEFAULT_ROLE} "
                    "(Organizations creates it only in member accounts)",
                )
            )
            continue
        if account.joined == "INVITED" and role_name == DEFAULT_ROLE:
            invited.append(account.name or account.id)
        fields: dict[str, Any] = {}
        if region:
            fields["region"] = region
        if listing.ou_paths is not None:
            tags = []
            for ou in listing.ou_paths.get(account.id, ()):
                value = tag(ou)
                if value and value not in tags:
                    tags.append(value)
            if tags:
                fields["tags"] = tags
        if account.name:
            fields["description"] = account.name
        role_fields = {"source_profile": source_profile} if source_profile else {}
        role = DraftRole(role_name, role_fields, origin=f"{subject} / {role_name}")
        name = account_name(account.name, account.id, lower=True)
        accounts.append(DraftAccount(account.id, name, fields, [role]))
    if invited:
        shown = ", ".join(inert(n) for n in invited[:5])
        more = f" and {len(invited) - 5} more" if len(invited) > 5 else ""
        notes.append(
            f"{len(invited)} invited account{'s' if len(invited) > 1 else ''} ({shown}{more}) "
            f"have {DEFAULT_ROLE} only if someone created it there."
        )
    wanted = role_name.lower()
    return Draft(
        SERVICE,
        accounts,
        lambda _account, role: str(role.get("name", "")).lower() == wanted,
        skipped,
        notes,
    )


def _ou_paths(org: Any) -> dict[str, tuple[str, ...]]:
    """Account id → names of the OUs from the root down to the account."""
    paths: dict[str, tuple[str, ...]] = {}
    pages = org.get_paginator("list_roots").paginate()
    roots = [r["Id"] for page in pages for r in page.get("Roots", [])]
    pending: list[tuple[str, tuple[str, ...]]] = [(root, ()) for root in roots]
    seen: set[str] = set()
    while pending:
        parent, path = pending.pop()
        if parent in seen:
            continue
        seen.add(parent)
        units = org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent)
        for page in units:
            for unit in page.get("OrganizationalUnits", []):
                here = (*path, str(unit.get("Name", "")))
                members = org.get_paginator("list_accounts_for_parent").paginate(
                    ParentId=unit["Id"], PaginationConfig={"PageSize": PAGE_SIZE}
                )
                for account_page in members:
                    for account in account_page.get("Accounts", []):
                        paths[str(account["Id"])] = here
                pending.append((unit["Id"], here))
    return paths


def _error(error: BaseException, profile: str | None, endpoint: str) -> RolecallError:
    source = f'profile "{inert(profile)}"' if profile else "the default credential chain"
    code, _, _ = error_code(error)
    if code in ("AccessDeniedException", "AccessDenied"):
        return OrganizationsDenied(
            "ListAccounts must be run from the management account or a delegated "
            f"administrator; {source} was refused.",
            hint="pass --source-profile with credentials of the management account (or of a "
            "delegated administrator for Organizations)",
        )
    if code == "AWSOrganizationsNotInUseException":
        return ImportFailed(
            f"the account of {source} is not a member of an organization.",
            hint="use credentials of the organization's management account",
        )
    login = (
        f"refresh them, e.g. `aws sso login --profile {inert(profile)}`, or update the keys"
        if profile
        else "refresh your default credentials (aws sso login, aws configure, ...)"
    )
    return common_error(error, service=SERVICE, endpoint=endpoint, source=source, login_hint=login)
