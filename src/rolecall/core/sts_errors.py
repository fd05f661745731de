"""What can go wrong when assuming a role, told as sentences with a hint.

STS's AccessDenied, ValidationError and ExpiredToken are plain `ClientError`s, so the branch is
on `Error.Code` (and, where AWS packs several causes into one code, on the message). No
message ever includes a secret: the texts are our own, with AWS's message made inert.
"""

from __future__ import annotations

import re
from typing import Any

from rolecall.core.errors import RolecallError, UsageError
from rolecall.core.text import inert


class AssumeError(RolecallError):
    """Assuming a role failed (exit code 1)."""


class MfaRequired(AssumeError):
    """A hop needs an MFA code and none was given; callers ask for one and try again."""

    def __init__(self, serial: str, target: str) -> None:
        super().__init__(
            f"{target} needs a code from the MFA device {serial}.",
            hint="pass --mfa-code CODE (6 digits), or run on a terminal to be asked",
        )
        self.serial = serial
        """The MFA device the code is for."""
        self.target = target
        """The hop that needs it."""


class MfaCodeInvalid(UsageError):
    """An MFA code that is not six digits."""


class MfaCodeReused(AssumeError):
    """The code was already used in its 30-second step; STS would refuse it."""


class MfaRejected(AssumeError):
    """STS refused the MFA code or serial."""


class AssumeDenied(AssumeError):
    """The caller may not assume the role (trust policy or sts:AssumeRole permission)."""


class SourceCredentialsExpired(AssumeError):
    """The credentials that call STS are expired or invalid."""


class NoSourceCredentials(AssumeError):
    """No credentials could be found to call STS with."""


class StsRefused(AssumeError):
    """STS refused the request for another reason (validation, region, policy size)."""


class StsThrottled(AssumeError):
    """STS kept answering Throttling."""


class StsUnavailable(AssumeError):
    """STS could not be reached, did not answer in time, or answered nonsense."""


_THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
}
_EXPIRED = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "RequestExpired",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
}


def describe_source(profile: str | None, via: str | None) -> str:
    """`profile "x"`, `the session of hub/Org`, or `the default credential chain`."""
    if via is not None:
        return f"the session of {via}"
    if profile is not None:
        return f'profile "{profile}"'
    return "the default credential chain"


def refresh_hint(profile: str | None, via: str | None) -> str:
    """How to get fresh source credentials."""
    if via is not None:
        return f"run `rolecall forget {via}` and try again"
    if profile is not None:
        return (
            f"refresh them, e.g. `aws sso login --profile {profile}` or `aws login`, "
            "or update the keys"
        )
    return "refresh your default credentials (aws sso login, aws configure, ...)"


def classify(
    error: BaseException,
    *,
    role_arn: str,
    target: str,
    region: str,
    endpoint: str,
    profile: str | None,
    via: str | None,
    mfa_serial: str | None,
    duration: int,
) -> AssumeError:
    """Turn a botocore exception into one of ours; unknown ones get a generic sentence."""
    from botocore import exceptions as bx

    source = describe_source(profile, via)
    if isinstance(error, bx.ClientError):
        response: Any = error.response
        code = str(response.get("Error", {}).get("Code", ""))
        message = inert(str(response.get("Error", {}).get("Message", "")))[:300]
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return _from_code(
            code,
            message,
            status,
            role_arn,
            target,
            region,
            source,
            profile,
            via,
            mfa_serial,
            duration,
        )
    if isinstance(error, bx.ProfileNotFound):
        return NoSourceCredentials(
            f'the AWS profile "{inert(str(profile))}" does not exist.',
            hint="check source_profile in the catalogue and your ~/.aws/config (AWS_CONFIG_FILE)",
        )
    if isinstance(error, bx.NoCredentialsError):
        return NoSourceCredentials(
            f"no AWS credentials were found in {source} to assume {target}.",
            hint="set source_profile in the catalogue, or configure credentials (aws configure)",
        )
    sso_errors = tuple(
        getattr(bx, name)
        for name in ("SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError")
        if hasattr(bx, name)
    )
    if sso_errors and isinstance(error, sso_errors):
        return SourceCredentialsExpired(
            f"the SSO session behind {source} has expired.",
            hint=f"run `aws sso login --profile {profile}`" if profile else "run `aws sso login`",
        )
    if isinstance(error, bx.CredentialRetrievalError):
        return NoSourceCredentials(
            f"the credentials of {source} could not be loaded ({inert(str(error))[:200]}).",
            hint="check the profile's credential_process or login settings",
        )
    if isinstance(error, bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return StsUnavailable(
            f"STS at {endpoint} did not answer in time.",
            hint="check your network or proxy; try again, or pick another region",
        )
    if isinstance(error, bx.EndpointConnectionError | bx.ConnectionClosedError):
        return StsUnavailable(
            f"cannot reach STS at {endpoint}.",
            hint="check your network, proxy and AWS_ENDPOINT_URL_STS",
        )
    from botocore.parsers import ResponseParserError

    if isinstance(error, ResponseParserError):
        return StsUnavailable(
            f"STS at {endpoint} sent a response rolecall could not read.",
            hint="a proxy may be rewriting responses; try again",
        )
    if isinstance(error, bx.ParamValidationError):
        return StsRefused(
            f"the request to assume {target} is not valid: {inert(str(error))[:200]}."
        )
    if isinstance(error, bx.BotoCoreError | OSError):
        return StsUnavailable(
            f"calling STS at {endpoint} failed ({type(error).__name__}).",
            hint="try again; if it persists, check your network",
        )
    return AssumeError(f"assuming {target} failed ({type(error).__name__}).")


def _from_code(
    code: str,
    message: str,
    status: object,
    role_arn: str,
    target: str,
    region: str,
    source: str,
    profile: str | None,
    via: str | None,
    mfa_serial: str | None,
    duration: int,
) -> AssumeError:
    if code == "AccessDenied" and "MultiFactorAuthentication" in message:
        if "invalid MFA one time pass code" in message:
            return MfaRejected(
                f"STS did not accept the MFA code for {mfa_serial or 'the MFA device'}.",
                hint="codes work once: wait for the next one and try again",
            )
        return MfaRejected(
            f"STS could not validate MFA for {target}: {message}",
            hint="check mfa_serial in the catalogue against your IAM user's MFA device",
        )
    if code in ("AccessDenied", "AccessDeniedException"):
        caller = re.search(r"User: (arn:\S+)", message)
        who = caller.group(1) if caller else f"the identity from {source}"
        return AssumeDenied(
            f"{who} is not allowed to assume {role_arn}.",
            hint=f"check that the role's trust policy allows {who}, and that its own policy "
            "grants sts:AssumeRole on the role (and sts:TagSession / sts:SetSourceIdentity "
            "when those are sent)",
        )
    if code in _EXPIRED:
        return SourceCredentialsExpired(
            f"the credentials of {source} are expired or not valid ({code}).",
            hint=refresh_hint(profile, via),
        )
    if code == "ValidationError":
        if "MaxSessionDuration" in message:
            return StsRefused(
                f"{target} does not allow sessions of {duration // 60} minutes.",
                hint="lower its duration in the catalogue (or --duration), or raise the role's "
                "maximum session duration in IAM",
            )
        if "role chaining" in message:
            return StsRefused(
                f"{target} is reached by role chaining, which AWS caps at 1 hour.",
                hint='set duration = "1h" or less for it',
            )
        if "roleSessionName" in message or "RoleSessionName" in message:
            return StsRefused(
                f"STS refused the session name for {target}: {message}",
                hint="use 2-64 characters of letters, digits and _ + = , . @ -",
            )
        return StsRefused(f"STS refused to assume {target}: {message}")
    if code == "RegionDisabledException":
        return StsRefused(
            f"STS is not activated in {region} for the account of {target}.",
            hint="activate the region in IAM account settings, or set another region for it",
        )
    if code in _THROTTLING:
        return StsThrottled(
            "STS is throttling requests and kept refusing after 3 attempts.",
            hint="wait a few seconds and try again",
        )
    if code in ("MalformedPolicyDocument", "PackedPolicyTooLarge"):
        return StsRefused(
            f"STS refused the session tags or policy for {target}: {message}",
            hint="send fewer or shorter session_tags",
        )
    if (isinstance(status, int) and status >= 500) or code in (
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "IDPCommunicationError",
    ):
        return StsUnavailable(
            f"STS had an internal problem ({code or status}) and did not recover after retries.",
            hint="try again in a moment",
        )
    return AssumeError(f"STS refused to assume {target} ({inert(code)}): {message}")
