"""Failures every AWS call can have, told the same way for STS, Organizations and the portal.

Callers keep what is specific to their API (AssumeRole's AccessDenied, ListAccounts'
management-account rule, ...) and hand everything else here: throttling, expired or invalid
credentials, 5xx, a missing profile, no credentials, an expired SSO session, timeouts, no
network, unreadable answers. The result is a kind plus a sentence and a hint; each caller
maps the kind to its own exception class. Messages never carry a secret.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from rolecall.core.text import inert

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
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

SERVER_CODES = frozenset(
    {"InternalFailure", "InternalError", "ServiceUnavailable", "IDPCommunicationError"}
)
"""Error codes of a service-side problem (retried by botocore already)."""


class Failure(NamedTuple):
    """What went wrong, for the caller to raise as its own error type."""

    kind: str
    """`throttled`, `expired`, `server`, `refused`, `profile`, `no-credentials`, `sso`,
    `credential-load`, `timeout`, `unreachable`, `unreadable` or `sdk`."""
    message: str
    hint: str | None


def error_code(error: BaseException) -> tuple[str, str, int | None]:
    """`(code, inert message, HTTP status)` of a botocore `ClientError`, else empty values."""
    response: Any = getattr(error, "response", None)
    if not isinstance(response, dict):
        return "", "", None
    details = response.get("Error", {})
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (
        str(details.get("Code", "")),
        inert(str(details.get("Message", "")))[:300],
        status if isinstance(status, int) else None,
    )


def describe(
    error: BaseException,
    *,
    service: str,
    endpoint: str,
    source: str,
    refresh_hint: str,
    profile: str | None,
) -> Failure:
    """The common sentence for `error` from a call to `service` with credentials of `source`."""
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    code, message, status = error_code(error)
    if code in THROTTLING_CODES or status == 429:
        return Failure(
            "throttled",
            f"{service} is throttling requests and kept refusing after 3 attempts.",
            "wait a few seconds and try again",
        )
    if code in EXPIRED_CODES:
        return Failure(
            "expired",
            f"the credentials of {source} are expired or not valid ({inert(code)}).",
            refresh_hint,
        )
    if code in SERVER_CODES or (code and status is not None and status >= 500):
        return Failure(
            "server",
            f"{service} had an internal problem ({inert(code)}) and did not recover after retries.",
            "try again in a moment",
        )
    if code:
        return Failure("refused", f"{service} refused the request ({inert(code)}): {message}", None)
    if isinstance(error, bx.ProfileNotFound):
        name = profile or str(error.kwargs.get("profile", ""))
        return Failure(
            "profile",
            f'the AWS profile "{inert(name)}" does not exist.',
            "check the profile name and your ~/.aws/config (AWS_CONFIG_FILE)",
        )
    if isinstance(error, bx.NoCredentialsError):
        return Failure(
            "no-credentials",
            f"no AWS credentials were found in {source} to call {service}.",
            "set a source profile, or configure credentials (aws configure)",
        )
    sso_errors = tuple(
        getattr(bx, name)
        for name in ("SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError")
        if hasattr(bx, name)
    )
    if sso_errors and isinstance(error, sso_errors):
        return Failure("sso", f"the SSO session behind {source} has expired.", refresh_hint)
    if isinstance(error, bx.CredentialRetrievalError):
        return Failure(
            "credential-load",
            f"the credentials of {source} could not be loaded.",
            "check the profile's credential_process or login settings",
        )
    if isinstance(error, bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return Failure(
            "timeout",
            f"{service} at {endpoint} did not answer in time.",
            "check your network or proxy; try again, or pick another region",
        )
    if isinstance(error, bx.EndpointConnectionError | bx.ConnectionClosedError):
        return Failure(
            "unreachable",
            f"cannot reach {service} at {endpoint}.",
            "check your network, proxy and endpoint settings (AWS_ENDPOINT_URL_*)",
        )
    if isinstance(error, ResponseParserError):
        return Failure(
            "unreadable",
            f"{service} at {endpoint} sent a response rolecall could not read.",
            "a proxy may be rewriting responses; try again",
        )
    if isinstance(error, bx.BotoCoreError | OSError):
        return Failure(
            "sdk",
            f"calling {service} at {endpoint} failed ({type(error).__name__}).",
            "try again; if it persists, check your network",
        )
    return Failure("sdk", f"calling {service} failed ({type(error).__name__}).", None)
