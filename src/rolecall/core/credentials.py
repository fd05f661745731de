"""Credentials and sessions as frozen values whose secrets never show in repr, str or logs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple


class Secret:
    """A string that hides itself: repr, str and format all print a mask.

    Locals in a traceback, f-strings in an error message and `repr()` of a session therefore
    cannot reveal it; code that really needs the value calls `reveal()`.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value itself; only for the wire, the child environment or the cache."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __format__(self, spec: str) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("secrets are not pickled")


def mask_key_id(access_key_id: str) -> str:
    """An access key id with all but its last 4 characters masked."""
    return "*" * max(len(access_key_id) - 4, 0) + access_key_id[-4:]


def utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime; naive values are refused, never guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetimes are not accepted; expiry must carry a timezone")
    return moment.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """`2026-11-27T22:43:16Z`: RFC 3339, UTC, `Z` suffix (what credential_process wants)."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse an aware RFC 3339 / ISO 8601 timestamp; naive or malformed text raises ValueError."""
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


class Credentials(NamedTuple):
    """Temporary AWS credentials. Only `access_key_id` is shown, and only masked."""

    access_key_id: str
    secret_access_key: Secret
    session_token: Secret
    expiration: datetime
    """Aware UTC expiry."""

    def __repr__(self) -> str:
        return (
            f"Credentials(access_key_id={mask_key_id(self.access_key_id)!r}, "
            f"expiration={rfc3339(self.expiration)!r})"
        )


class Session(NamedTuple):
    """One assumption: credentials plus who, as whom, and until when."""

    target: str
    """Catalogue target, `ACCOUNT/ROLE`."""
    role_arn: str
    session_name: str
    source_identity: str | None
    assumed_role_arn: str
    """`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, as CloudTrail shows it."""
    region: str
    issued_at: datetime
    credentials: Credentials

    @property
    def expiration(self) -> datetime:
        """When the credentials stop working (aware UTC)."""
        return self.credentials.expiration

    def remaining(self, now: datetime) -> float:
        """Seconds left at `now` (negative once expired)."""
        return (self.expiration - utc(now)).total_seconds()
