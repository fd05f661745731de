"""The IAM Identity Center token cache, shared with the AWS CLI and botocore.

A sign-in ends in `~/.aws/sso/cache/<sha1>.json` (sha1 of the `[sso-session]` name, else of
the start URL), with the fields the AWS CLI writes: `startUrl`, `region`, `accessToken`,
`expiresAt` (`%Y-%m-%dT%H:%M:%SZ`), `clientId`, `clientSecret`, `registrationExpiresAt`,
`refreshToken`. The client registration is cached beside it under botocore's key (sha1 of
`{"tool": "botocore", "startUrl", "region", "scopes", "session_name"}`, with `scopes` as the
config's `sso_registration_scopes`, null when unset), so `aws sso login` and rolecall reuse
each other's registrations.

Files are written 0600 from creation and replaced atomically (`write_private`). The cache
directory is made 0700 when it is ours and wider (the AWS CLI creates it 0755); missing
parents are created 0700; an existing `~/.aws` is never changed. A token file is read only
when it is a regular file of ours (a symlink, a FIFO or another user's file counts as absent,
and a sign-in replaces it); its mode is not held against it, as botocore reads it whatever
the mode, and rolecall's own writes are 0600.

botocore fixes its cache directory (`~` expanded) when it is imported, while rolecall takes
`HOME` from the environment it was given. `point_botocore_at` makes a botocore session read
the directory rolecall wrote when the two differ.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rolecall.core.errors import RolecallError, UsageError
from rolecall.core.private_files import UnsafeDirectory, read_private, write_private
from rolecall.core.text import inert

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How the AWS CLI writes `expiresAt` and `registrationExpiresAt`."""

DEFAULT_SCOPES = ("sso:account:access",)
"""Scopes asked for when the config names none (the grant that yields a refresh token)."""

CHAIN_LIMIT = 10
"""How many `source_profile` links are followed looking for the SSO profile underneath."""


@dataclass(frozen=True, slots=True)
class SsoSource:
    """An IAM Identity Center sign-in from the AWS config: whose token a profile uses."""

    start_url: str
    region: str
    """The sso_region (where sso-oidc and the portal live)."""
    session_name: str | None
    """The `[sso-session]` name; None for a legacy profile with an inline `sso_start_url`."""
    scopes: tuple[str, ...] | None = None
    """`sso_registration_scopes` from the config, None when unset."""
    profile: str | None = None
    """The profile it was found through (for messages)."""

    @property
    def label(self) -> str:
        """How messages name it: `sso-session "x"` or `the start URL https://...`."""
        if self.session_name is not None:
            return f'sso-session "{inert(self.session_name)}"'
        return f"the start URL {inert(self.start_url)}"

    @property
    def login_command(self) -> str:
        """The `rolecall login` that signs in to it."""
        if self.session_name is not None:
            return f"rolecall login {inert(self.session_name)}"
        return f"rolecall login --profile {inert(self.profile or '')}".rstrip()

    @property
    def cache_key(self) -> str:
        """botocore's token cache key: sha1 of the session name, else of the start URL."""
        material = self.session_name if self.session_name is not None else self.start_url
        return hashlib.sha1(material.encode()).hexdigest()  # noqa: S324 - botocore's name

    @property
    def registration_key(self) -> str:
        """botocore's client-registration cache key."""
        args = {
            "tool": "botocore",
            "startUrl": self.start_url,
            "region": self.region,
            "scopes": list(self.scopes) if self.scopes is not None else None,
            "session_name": self.session_name,
        }
        material = json.dumps(args, sort_keys=True).encode()
        return hashlib.sha1(material).hexdigest()  # noqa: S324 - botocore's name

    @property
    def registration_scopes(self) -> list[str]:
        """The scopes to register with."""
        return list(self.scopes or DEFAULT_SCOPES)


def _scopes(raw: object) -> tuple[str, ...] | None:
    if not isinstance(raw, str):
        return None
    return tuple(s.strip() for s in raw.split(",") if s.strip())


def session_source(full_config: Mapping[str, Any], name: str) -> SsoSource:
    """The `[sso-session NAME]` of the AWS config; `UsageError` when missing or incomplete."""
    sessions = full_config.get("sso_sessions", {})
    settings = sessions.get(name)
    if not isinstance(settings, dict):
        known = ", ".join(sorted(inert(s) for s in sessions)) or "none"
        raise UsageError(
            f"the AWS config has no [sso-session {inert(name)}] (it has: {known}).",
            hint="`aws configure sso-session` writes one",
        )
    url, region = settings.get("sso_start_url"), settings.get("sso_region")
    if not isinstance(url, str) or not isinstance(region, str):
        raise UsageError(
            f"[sso-session {inert(name)}] needs both sso_start_url and sso_region.",
            hint="add the missing one to your AWS config",
        )
    return SsoSource(url, region, name, _scopes(settings.get("sso_registration_scopes")))


def profile_source(full_config: Mapping[str, Any], profile: str) -> SsoSource | None:
    """The sign-in a profile's credentials rest on: its own SSO settings, or those of the
    profile at the root of its `source_profile` chain; None when it is not SSO at all."""
    profiles = full_config.get("profiles", {})
    name = profile
    for _ in range(CHAIN_LIMIT):
        settings = profiles.get(name)
        if not isinstance(settings, dict):
            return None
        session = settings.get("sso_session")
        if isinstance(session, str):
            found = session_source(full_config, session)
            return SsoSource(found.start_url, found.region, session, found.scopes, profile)
        url, region = settings.get("sso_start_url"), settings.get("sso_region")
        if isinstance(url, str) and isinstance(region, str):
            scopes = _scopes(settings.get("sso_registration_scopes"))
            return SsoSource(url, region, None, scopes, profile)
        parent = settings.get("source_profile")
        if not isinstance(parent, str) or "role_arn" not in settings or parent == name:
            return None
        name = parent
    return None


def token_dir(env: Mapping[str, str]) -> Path:
    """`~/.aws/sso/cache` with `~` taken from `env` (HOME), as botocore would expand it; or
    `ROLECALL_SSO_CACHE_DIR` (the demo keeps its sign-in in its own directory with it)."""
    if env.get("ROLECALL_SSO_CACHE_DIR"):
        return Path(env["ROLECALL_SSO_CACHE_DIR"])
    home = env.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".aws" / "sso" / "cache"


def parse_time(value: object) -> datetime | None:
    """A cache timestamp (`2026-01-01T00:00:00Z`, or any ISO 8601 form) as aware UTC."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("UTC", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    """`value` the way the AWS CLI writes it."""
    return value.astimezone(UTC).strftime(TIME_FORMAT)


class TokenCache:
    """The token and registration files of one SSO cache directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, key: str) -> Path:
        """The file for a cache key."""
        return self.directory / f"{key}.json"

    def read(self, key: str) -> dict[str, Any] | None:
        """The document under `key`, if it is a regular file of ours holding JSON."""
        data = read_private(self.path(key), any_mode=True)  # the AWS CLI may leave 0644
        if data is None:
            return None
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return None
        return document if isinstance(document, dict) else None

    def write(self, key: str, document: Mapping[str, Any]) -> None:
        """Replace the document under `key` (0600 from creation, atomic)."""
        try:
            write_private(self.path(key), json.dumps(dict(document)).encode())
        except UnsafeDirectory as e:
            raise RolecallError(
                f"cannot write the IAM Identity Center token: {e.message}",
                hint=f"{self.directory} must be a directory of yours; fix or remove it",
            ) from None
        except OSError as e:
            raise RolecallError(
                f"cannot write the IAM Identity Center token in {self.directory}: "
                f"{e.strerror or e}.",
                hint="check that the directory is yours and writable",
            ) from None


def point_botocore_at(botocore_session: Any, profile: str, directory: Path) -> None:
    """Make `botocore_session` read SSO tokens for `profile` from `directory`.

    botocore expands `~/.aws/sso/cache` once, at import; when `directory` differs (HOME
    changed since), its SSO credential provider is replaced by one reading `directory`.
    """
    from botocore.credentials import SSOProvider
    from botocore.tokens import SSOTokenProvider
    from botocore.utils import JSONFileCache

    if Path(SSOProvider._SSO_TOKEN_CACHE_DIR) == directory:
        return
    resolver = botocore_session.get_component("credential_provider")
    cache = JSONFileCache(str(directory), dumps_func=_dumps)
    replacement = SSOProvider(
        load_config=lambda: botocore_session.full_config,
        client_creator=botocore_session.create_client,
        profile_name=profile,
        token_cache=cache,
        token_provider=SSOTokenProvider(botocore_session, cache=cache, profile_name=profile),
    )
    providers = getattr(resolver, "providers", None)
    if isinstance(providers, list):
        for index, provider in enumerate(providers):
            if getattr(provider, "METHOD", None) == SSOProvider.METHOD:
                providers[index] = replacement


def _dumps(document: Any) -> str:
    """JSON with datetimes as the AWS CLI writes them (botocore saves refreshed tokens)."""
    return json.dumps(
        document, default=lambda v: format_time(v) if isinstance(v, datetime) else str(v)
    )
