"""Import from IAM Identity Center: every account and role the cached SSO token can see.

The token comes from the AWS CLI's cache (`~/.aws/sso/cache`, written by `aws sso login`),
found the way botocore finds it: under the `[sso-session]` name that has this start URL in
the AWS config, else under the start URL itself (legacy profiles). rolecall never signs in,
never refreshes the token and never writes the cache; an expired or refused token is an error
that says which `aws sso login` to run.

A permission set is not a role rolecall assumes with STS: its credentials come from the SSO
portal. So each one becomes a catalogue role whose `source_profile` is an SSO profile for that
very account and permission set (tagged `sso`). Profiles the user's AWS config already has
for this start URL are used as they are; the missing ones are planned (`ProfilePlan`) and
written by `render_profiles` as text for the user to review and append — the AWS config
itself is never edited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rolecall.core.credentials import Secret
from rolecall.core.errors import RolecallError, UsageError
from rolecall.core.importers.aws_config import AwsConfig
from rolecall.core.importers.draft import Draft, DraftAccount, DraftRole, account_name
from rolecall.core.importers.errors import SsoTokenExpired, common_error, error_code
from rolecall.core.text import has_unsafe, inert
from rolecall.version import __version__

SERVICE = "IAM Identity Center"
PAGE_SIZE = 100
"""The portal's maximum page size for ListAccounts and ListAccountRoles."""
WORKERS = 8
"""ListAccountRoles calls in flight at once (one per account)."""

PROFILES_HEADER = "# IAM Identity Center profiles for a rolecall catalogue"
"""First line of a profiles file; only files that start with it are overwritten."""

_PROFILE_NAME = re.compile(r"[^\s\[\]]{1,128}")
_SESSION_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class SsoLogin:
    """Which sign-in the import uses, and what to tell the user when it has lapsed."""

    start_url: str
    region: str
    """The SSO region (where the portal API lives)."""
    session: str | None
    """The `[sso-session]` of the AWS config with this start URL, if any."""
    legacy_profile: str | None
    """A legacy SSO profile (inline `sso_start_url`) with this start URL, if any."""

    @property
    def login_hint(self) -> str:
        """The `aws sso login` to run."""
        if self.session:
            return f"run `aws sso login --sso-session {inert(self.session)}`, then import again"
        if self.legacy_profile:
            return f"run `aws sso login --profile {inert(self.legacy_profile)}`, then import again"
        return (
            f"add an [sso-session] for {inert(self.start_url)} to your AWS config "
            "(`aws configure sso-session`), run `aws sso login --sso-session NAME`, "
            "then import again"
        )


@dataclass(frozen=True)
class PortalAccount:
    """One account the token can see, with its permission sets."""

    id: str
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class PlannedProfile:
    """An SSO profile the catalogue names that the AWS config does not have yet."""

    name: str
    account_id: str
    role: str


@dataclass(frozen=True)
class ProfilePlan:
    """The profiles behind an identity-center import."""

    session: str
    """The `[sso-session]` the planned profiles use."""
    start_url: str
    sso_region: str
    write_session: bool
    """Whether that `[sso-session]` must be written too (the AWS config lacks it)."""
    planned: tuple[PlannedProfile, ...]
    """Profiles to write, in catalogue order."""
    reused: int
    """Roles whose profile the AWS config already has."""


def normalise_url(url: str) -> str:
    """A start URL for comparison: no fragment, no trailing slash, lower-case host."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}{path}"


def check_start_url(url: str) -> str:
    """`url` if it is an https URL fit for an AWS config file, else `UsageError`."""
    parts = urlsplit(url)
    if (
        parts.scheme != "https"
        or not parts.netloc
        or has_unsafe(url)
        or any(c.isspace() for c in url)
    ):
        raise UsageError(
            f"--start-url {inert(url)!r} is not an https:// URL.",
            hint="it looks like https://d-1234567890.awsapps.com/start",
        )
    return url.strip()


def find_login(
    config: AwsConfig | None, start_url: str, region: str, session: str | None
) -> SsoLogin:
    """Where the token for `start_url` is cached, from `--sso-session` or the AWS config."""
    wanted = normalise_url(start_url)
    sessions = config.sso_sessions if config else {}
    if session is not None:
        settings = sessions.get(session)
        url = settings.get("sso_start_url") if settings else None
        if isinstance(url, str) and normalise_url(url) != wanted:
            raise UsageError(
                f"[sso-session {inert(session)}] in your AWS config is for {inert(url)}, "
                f"not {inert(start_url)}.",
                hint="pass the session's own start URL, or another --sso-session",
            )
    else:
        session = next(
            (
                name
                for name, settings in sessions.items()
                if isinstance(settings.get("sso_start_url"), str)
                and normalise_url(settings["sso_start_url"]) == wanted
            ),
            None,
        )
    legacy = None
    if config is not None:
        legacy = next(
            (
                name
                for name, keys in config.profiles.items()
                if "sso_session" not in keys
                and isinstance(keys.get("sso_start_url"), str)
                and normalise_url(keys["sso_start_url"]) == wanted
            ),
            None,
        )
    return SsoLogin(start_url, region, session, legacy)


def load_token(cache_dir: Path, login: SsoLogin, now: datetime | None = None) -> Secret:
    """The cached access token for `login`; `SsoTokenExpired` if missing or expired."""
    from botocore.exceptions import SSOTokenLoadError
    from botocore.utils import JSONFileCache, SSOTokenLoader

    loader = SSOTokenLoader(cache=JSONFileCache(str(cache_dir)))
    token: dict[str, Any] | None = None
    for session in (login.session, None) if login.session else (None,):
        try:
            token = loader(login.start_url, session_name=session)
            break
        except SSOTokenLoadError:
            continue
    if token is None:
        raise SsoTokenExpired(
            f"there is no cached {SERVICE} token for {inert(login.start_url)}.",
            hint=login.login_hint,
        )
    expires = _timestamp(token.get("expiresAt"))
    if expires is None or expires <= (now or datetime.now(UTC)):
        when = f" at {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
        raise SsoTokenExpired(
            f"the {SERVICE} token for {inert(login.start_url)} expired{when}.",
            hint=login.login_hint,
        )
    return Secret(str(token.get("accessToken", "")))


def portal_client(region: str, settings: Mapping[str, Any]) -> Any:
    """An unsigned client of the SSO portal API in the SSO region."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    config = Config(
        signature_version=UNSIGNED, user_agent_extra=f"rolecall/{__version__}", **settings
    )
    try:
        return boto3.Session().client("sso", region_name=region, config=config)
    except BotoCoreError as e:
        raise common_error(
            e, service=SERVICE, endpoint=region, source="the portal", login_hint=""
        ) from None


def read(portal: Any, token: Secret, login: SsoLogin) -> list[PortalAccount]:
    """Every account the token can see, each with its roles (ListAccounts, ListAccountRoles)."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import BotoCoreError, ClientError

    endpoint = str(getattr(getattr(portal, "meta", None), "endpoint_url", SERVICE))
    access = token.reveal()

    def roles_of(account_id: str) -> tuple[str, ...]:
        pages = portal.get_paginator("list_account_roles").paginate(
            accessToken=access, accountId=account_id, PaginationConfig={"PageSize": PAGE_SIZE}
        )
        names = {str(r["roleName"]) for page in pages for r in page.get("roleList", [])}
        return tuple(sorted(names, key=str.lower))

    try:
        found: dict[str, str] = {}
        pages = portal.get_paginator("list_accounts").paginate(
            accessToken=access, PaginationConfig={"PageSize": PAGE_SIZE}
        )
        for page in pages:
            for item in page.get("accountList", []):
                found.setdefault(str(item["accountId"]), str(item.get("accountName", "")))
        ids = sorted(found)
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = [pool.submit(roles_of, account_id) for account_id in ids]
            try:
                roles = [future.result() for future in futures]
            except BaseException:
                # One refusal (expired token, throttling) would refuse the rest too: do not
                # wait for hundreds of calls to fail one by one.
                for future in futures:
                    future.cancel()
                raise
    except (BotoCoreError, ClientError, OSError) as e:
        raise _error(e, login, endpoint) from None
    return [PortalAccount(i, found[i], r) for i, r in zip(ids, roles, strict=True)]


def draft(
    accounts: list[PortalAccount],
    login: SsoLogin,
    config: AwsConfig | None,
    earlier_profiles: frozenset[str] = frozenset(),
) -> tuple[Draft, ProfilePlan]:
    """A draft with every account and permission set, and the profiles it needs.

    `earlier_profiles` are the profile names of an earlier profiles file: roles using them
    count as this source's when reporting what the source no longer has.
    """
    existing = _existing_profiles(config, login.start_url)
    taken = {name.lower() for name in (config.profiles if config else {})}
    drafts = []
    planned = []
    reused = 0
    for account in sorted(accounts, key=lambda a: (a.name.lower(), a.id)):
        name = account_name(account.name, account.id, lower=True)
        roles = []
        for role in account.roles:
            profile = existing.get((account.id, role))
            if profile is None:
                profile = _profile_name(name, account.id, role, taken)
                planned.append(PlannedProfile(profile, account.id, role))
            else:
                reused += 1
            roles.append(
                DraftRole(
                    role,
                    {"source_profile": profile, "tags": ["sso"]},
                    origin=f"{name}/{role}",
                )
            )
        fields: dict[str, Any] = {"region": login.region}
        if account.name:
            fields["description"] = account.name
        drafts.append(DraftAccount(account.id, name, fields, roles))
    session = login.session or _session_name(login.start_url, config)
    ours = frozenset(existing.values()) | {p.name for p in planned} | earlier_profiles
    plan = ProfilePlan(
        session=session,
        start_url=login.start_url,
        sso_region=login.region,
        write_session=session not in (config.sso_sessions if config else {}),
        planned=tuple(planned),
        reused=reused,
    )
    source = f"{SERVICE} ({inert(login.start_url)})"
    return (
        Draft(source, drafts, lambda _account, role: role.get("source_profile") in ours),
        plan,
    )


def render_profiles(plan: ProfilePlan, used: set[str], config_path: Path) -> str | None:
    """The AWS config text for the planned profiles the catalogue uses; None if none."""
    profiles = [p for p in plan.planned if p.name in used]
    if not profiles:
        return None
    lines = [
        PROFILES_HEADER,
        f"# written by `rolecall import identity-center` for {plan.start_url}.",
        f"# Review it, then append it to your AWS config: cat FILE >> {config_path}",
    ]
    if plan.write_session:
        lines.append(f"# and sign in once with: aws sso login --sso-session {plan.session}")
    lines.append("")
    if plan.write_session:
        lines += [
            f"[sso-session {plan.session}]",
            f"sso_start_url = {plan.start_url}",
            f"sso_region = {plan.sso_region}",
            "sso_registration_scopes = sso:account:access",
            "",
        ]
    for profile in profiles:
        lines += [
            f"[profile {profile.name}]",
            f"sso_session = {plan.session}",
            f"sso_account_id = {profile.account_id}",
            f"sso_role_name = {profile.role}",
            f"region = {plan.sso_region}",
            "",
        ]
    return "\n".join(lines)


def profiles_of_file(text: str) -> frozenset[str]:
    """The profile names of a profiles file written by `render_profiles`."""
    return frozenset(re.findall(r"^\[profile ([^\]\s]+)\]$", text, flags=re.MULTILINE))


# ---------------------------------------------------------------------------------------------


def _existing_profiles(config: AwsConfig | None, start_url: str) -> dict[tuple[str, str], str]:
    """`(account id, role)` → the AWS config's SSO profile for them under `start_url`."""
    if config is None:
        return {}
    wanted = normalise_url(start_url)
    found: dict[tuple[str, str], str] = {}
    for name, keys in config.profiles.items():
        account_id, role = keys.get("sso_account_id"), keys.get("sso_role_name")
        if not isinstance(account_id, str) or not isinstance(role, str) or "role_arn" in keys:
            continue
        session = keys.get("sso_session")
        settings = config.sso_sessions.get(session, {}) if isinstance(session, str) else keys
        url = settings.get("sso_start_url")
        if (
            isinstance(url, str)
            and normalise_url(url) == wanted
            and _PROFILE_NAME.fullmatch(name)
            and not has_unsafe(name)
        ):
            found.setdefault((account_id.strip(), role.strip()), name)
    return found


def _profile_name(account: str, account_id: str, role: str, taken: set[str]) -> str:
    for candidate in (
        f"{account}.{role}",
        f"{account}-{account_id[-4:]}.{role}",
        f"{account}-{account_id}.{role}",
    ):
        if candidate.lower() not in taken:
            taken.add(candidate.lower())
            return candidate
    number = 2
    while f"{account}-{account_id}-{number}.{role}".lower() in taken:
        number += 1
    taken.add(f"{account}-{account_id}-{number}.{role}".lower())
    return f"{account}-{account_id}-{number}.{role}"


def _session_name(start_url: str, config: AwsConfig | None) -> str:
    """A new `[sso-session]` name from the start URL's host: `d-1234567890`, `mycorp`."""
    host = urlsplit(start_url).hostname or ""
    base = _SESSION_NAME.sub("-", host.split(".")[0]).strip("-") or "sso"
    existing = config.sso_sessions if config else {}
    name, number = base, 2
    while name in existing:
        name, number = f"{base}-{number}", number + 1
    return name


def _timestamp(value: object) -> datetime | None:
    """`2026-01-01T00:00:00Z` / `...UTC` (both appear in the cache) as aware UTC."""
    if not isinstance(value, str):
        return None
    text = value.strip().replace("UTC", "+00:00").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _error(error: BaseException, login: SsoLogin, endpoint: str) -> RolecallError:
    code, _, _ = error_code(error)
    if code == "UnauthorizedException":
        return SsoTokenExpired(
            f"{SERVICE} refused the cached token for {inert(login.start_url)}: it has expired "
            "or was signed out.",
            hint=login.login_hint,
        )
    return common_error(
        error,
        service=SERVICE,
        endpoint=endpoint,
        source=f"the token for {inert(login.start_url)}",
        login_hint=login.login_hint,
    )
