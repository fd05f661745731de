"""What can go wrong while importing, told as sentences with a hint.

Organizations and the IAM Identity Center portal answer with their own error codes; the
common cases (no credentials, expired credentials, throttling, no network) are told the same
way for both. Messages never carry a secret: AWS's own text is made inert and cut short.
"""

from __future__ import annotations

from typing import Any

from rolecall.core.errors import RolecallError, UsageError
from rolecall.core.text import inert


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


THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)
"""Error codes that mean "slow down"."""

EXPIRED_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "RequestExpired",
        "SignatureDoesNotMatch",
    }
)
"""Error codes that mean the calling credentials are expired or not valid."""


def error_code(error: BaseException) -> tuple[str, str, int | None]:
    """`(code, inert message, HTTP status)` of a botocore `ClientError`, else empty values."""
    response: Any = getattr(error, "response", None)
    if not isinstance(response, dict):
        return "", "", None
    details = response.get("Error", {})
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (
        str(details.get("Code", "")),
        inert(str(details.get("Message", "")))[:200],
        status if isinstance(status, int) else None,
    )


def common_error(
    error: BaseException, *, service: str, endpoint: str, source: str, login_hint: str
) -> RolecallError:
    """The sentence for failures every AWS call can have; a generic one for the rest."""
    from botocore import exceptions as bx

    code, message, status = error_code(error)
    if code in THROTTLING_CODES or status == 429:
        return ImportThrottled(
            f"{service} is throttling requests and kept refusing after 3 attempts.",
            hint="wait a minute and try again",
        )
    if code in EXPIRED_CODES:
        return ImportFailed(
            f"the credentials of {source} are expired or not valid ({inert(code)}).",
            hint=login_hint,
        )
    if code:
        if status is not None and status >= 500:
            return ImportUnavailable(
                f"{service} had an internal problem ({inert(code)}) and did not recover "
                "after retries.",
                hint="try again in a moment",
            )
        return ImportFailed(f"{service} refused the request ({inert(code)}): {message}")
    if isinstance(error, bx.ProfileNotFound):
        return ImportFailed(
            f"the AWS profile {inert(str(error.kwargs.get('profile', '')))!r} does not exist.",
            hint="check the profile name and your AWS config (AWS_CONFIG_FILE)",
        )
    if isinstance(error, bx.NoCredentialsError):
        return ImportFailed(
            f"no AWS credentials were found in {source} to call {service}.",
            hint="pass --source-profile PROFILE, or configure credentials (aws configure)",
        )
    sso_errors = tuple(
        getattr(bx, name)
        for name in ("SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError")
        if hasattr(bx, name)
    )
    if sso_errors and isinstance(error, sso_errors):
        return ImportFailed(f"the SSO session behind {source} has expired.", hint=login_hint)
    if isinstance(error, bx.CredentialRetrievalError):
        return ImportFailed(
            f"the credentials of {source} could not be loaded.",
            hint="check the profile's credential_process or login settings",
        )
    if isinstance(error, bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return ImportUnavailable(
            f"{service} at {endpoint} did not answer in time.",
            hint="check your network or proxy and try again",
        )
    if isinstance(error, bx.EndpointConnectionError | bx.ConnectionClosedError):
        return ImportUnavailable(
            f"cannot reach {service} at {endpoint}.",
            hint="check your network, proxy and region",
        )
    if isinstance(error, bx.BotoCoreError | OSError):
        return ImportUnavailable(
            f"calling {service} at {endpoint} failed ({type(error).__name__}).",
            hint="try again; if it persists, check your network",
        )
    return ImportFailed(f"calling {service} failed ({type(error).__name__}).")
