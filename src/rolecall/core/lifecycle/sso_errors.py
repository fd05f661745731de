"""What can go wrong when signing in to IAM Identity Center, told as sentences with a hint.

sso-oidc errors are `ClientError`s whose code comes from `x-amzn-errortype`; the branch is on
that code. No message ever carries a token, a code or a client secret: the texts are ours,
with AWS's message made inert and cut short.
"""

from __future__ import annotations

from typing import Any

from rolecall.core.errors import RolecallError
from rolecall.core.lifecycle.sso_token import SsoSource
from rolecall.core.text import inert

REFUSED_CODES = frozenset(
    {
        "InvalidRequestException",
        "InvalidClientException",
        "InvalidGrantException",
        "InvalidScopeException",
        "UnauthorizedClientException",
        "InvalidRedirectUriException",
        "InvalidRequestRegionException",
    }
)
"""Codes that mean the start URL, region or registration does not fit this directory."""


class SsoError(RolecallError):
    """Signing in to IAM Identity Center failed."""


class SsoSignInRequired(SsoError):
    """The token is missing or expired and this caller cannot ask anyone to sign in."""

    def __init__(
        self, message: str, hint: str | None = None, source: SsoSource | None = None
    ) -> None:
        super().__init__(message, hint)
        self.source = source
        """The sign-in that is needed (a front end that can ask offers it)."""


class SsoCancelled(SsoError):
    """The user stopped the sign-in (the browser wait or the device-code polling)."""


def duration(seconds: float) -> str:
    """`10 minutes`, or `3 s` for short (test) timeouts."""
    return f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} s"


def sign_in_required(source: SsoSource) -> SsoSignInRequired:
    """The token is gone and nobody can be asked here."""
    return SsoSignInRequired(
        f"the IAM Identity Center sign-in for {source.label} has expired.",
        hint=f"run `{source.login_command}`",
        source=source,
    )


def cancelled(source: SsoSource) -> SsoCancelled:
    """The caller's cancel event was set."""
    return SsoCancelled(
        f"the sign-in to {source.label} was cancelled.",
        hint=f"sign in again when you are ready (`{source.login_command}`)",
    )


def lock_timeout(source: SsoSource, seconds: float) -> SsoError:
    """Another process holds the sign-in lock for too long."""
    return SsoError(
        f"another rolecall process has been signing in to {source.label} for over "
        f"{duration(seconds)}.",
        hint="finish or close that sign-in, then try again",
    )


def timed_out(source: SsoSource, seconds: float) -> SsoError:
    """The browser never came back to the loopback redirect."""
    return SsoError(
        f"the browser sign-in to {source.label} did not finish within {duration(seconds)}.",
        hint=f"the tab may have been closed; run `{source.login_command}` to try again "
        "(add --use-device-code to sign in on another device)",
    )


def expired_code(source: SsoSource) -> SsoError:
    """The device code was not approved in time."""
    return SsoError(
        f"the device code for {source.label} expired before it was approved.",
        hint=f"run `{source.login_command}` again and approve the new code in time",
    )


def unusable_answer() -> SsoError:
    """CreateToken answered without the fields a token needs."""
    return SsoError(
        "IAM Identity Center answered the sign-in without a usable token.",
        hint="try again; a proxy may be rewriting responses",
    )


def browser_error(source: SsoSource, error: str, description: str | None) -> SsoError:
    """The redirect brought an OAuth error instead of a code."""
    if error == "access_denied":
        return SsoError(
            f"the sign-in to {source.label} was denied in the browser.",
            hint=f"sign in as a user assigned to it, then run `{source.login_command}`",
        )
    why = inert(error)[:80] + (f" ({inert(description)[:200]})" if description else "")
    return SsoError(
        f"the browser sign-in to {source.label} failed: {why}.",
        hint=f"run `{source.login_command}` to try again",
    )


def failure(error: BaseException, source: SsoSource, endpoint: str) -> SsoError:
    """A botocore exception from sso-oidc as one of ours."""
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(error, EndpointConnectionError | ConnectionError | ReadTimeoutError):
        return SsoError(
            f"cannot reach IAM Identity Center at {inert(endpoint)} "
            f"(sso_region {inert(source.region)}).",
            hint="check your network connection, and that sso_region in your AWS config "
            "is the region of your IAM Identity Center",
        )
    if not isinstance(error, ClientError):
        return SsoError(
            f"signing in to {source.label} failed ({type(error).__name__}).",
            hint=f"run `{source.login_command}` to try again",
        )
    details: Any = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = inert(str(details.get("Message", "")))[:200]
    if code == "AccessDeniedException":
        return SsoError(
            f"IAM Identity Center denied the sign-in to {source.label}.",
            hint=f"approve the request as a user assigned to it, then `{source.login_command}`",
        )
    if code == "ExpiredTokenException":
        return expired_code(source)
    if code in REFUSED_CODES:
        where = f" of [sso-session {inert(source.session_name)}]" if source.session_name else ""
        return SsoError(
            f"IAM Identity Center in {inert(source.region)} refused the sign-in for "
            f"{inert(source.start_url)} ({inert(code)}).",
            hint=f"check sso_start_url and sso_region{where} in your AWS config",
        )
    return SsoError(
        f"IAM Identity Center refused the sign-in to {source.label}: {inert(code)}"
        + (f" ({message})" if message else "")
        + ".",
        hint=f"run `{source.login_command}` to try again",
    )
