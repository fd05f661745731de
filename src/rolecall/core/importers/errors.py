"""What can go wrong while importing, told as sentences with a hint.

Organizations and the IAM Identity Center portal answer with their own error codes; the
common cases (no credentials, expired credentials, throttling, no network) are told the same
way for both. Messages never carry a secret: AWS's own text is made inert and cut short.
"""

from __future__ import annotations

from rolecall.core.aws_errors import describe, error_code
from rolecall.core.errors import RolecallError, UsageError

__all__ = [
    "ImportFailed",
    "ImportSourceError",
    "ImportThrottled",
    "ImportUnavailable",
    "OrganizationsDenied",
    "SsoTokenExpired",
    "common_error",
    "error_code",
]


class ImportSourceError(UsageError):
    """The source cannot be read: a missing or malformed AWS config file (exit code 2)."""


class ImportFailed(RolecallError):
    """An AWS call of an import failed (exit code 1)."""


class OrganizationsDenied(ImportFailed):
    """ListAccounts was refused: the caller is not the management account or a delegate."""


class SsoTokenExpired(ImportFailed):
    """There is no usable cached IAM Identity Center token: missing, expired or refused."""


class ImportThrottled(ImportFailed):
    """The service kept answering "too many requests" after the retries."""


class ImportUnavailable(ImportFailed):
    """The service could not be reached or did not answer in time."""


def common_error(
    error: BaseException, *, service: str, endpoint: str, source: str, login_hint: str
) -> RolecallError:
    """The sentence for failures every AWS call can have (see `rolecall.core.aws_errors`)."""
    failure = describe(
        error,
        service=service,
        endpoint=endpoint,
        source=source,
        refresh_hint=login_hint,
        profile=None,
    )
    if failure.kind == "throttled":
        return ImportThrottled(failure.message, hint=failure.hint)
    if failure.kind in ("server", "timeout", "unreachable", "unreadable", "sdk"):
        return ImportUnavailable(failure.message, hint=failure.hint)
    return ImportFailed(failure.message, hint=failure.hint)
