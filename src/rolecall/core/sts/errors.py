"""What can go wrong when assuming a role, told as sentences with a hint.

STS's AccessDenied, ValidationError and ExpiredToken are plain `ClientError`s, so the branch is
on `Error.Code` (and, where AWS packs several causes into one code, on the message). No
message ever includes a secret: the texts are our own, with AWS's message made inert.
"""

from __future__ import annotations

import re

from rolecall.core.aws_errors import describe, error_code
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
    code, message, _ = error_code(error)
    specific = _from_code(code, message, role_arn, target, region, mfa_serial, duration)
    if specific is not None:
        return specific
    source = describe_source(profile, via)
    failure = describe(
        error,
        service="STS",
        endpoint=endpoint,
        source=source,
        refresh_hint=refresh_hint(profile, via),
        profile=profile,
    )
    kind = {
        "throttled": StsThrottled,
        "expired": SourceCredentialsExpired,
        "sso": SourceCredentialsExpired,
        "profile": NoSourceCredentials,
        "no-credentials": NoSourceCredentials,
        "credential-load": NoSourceCredentials,
        "server": StsUnavailable,
        "timeout": StsUnavailable,
        "unreachable": StsUnavailable,
        "unreadable": StsUnavailable,
        "sdk": StsUnavailable,
    }.get(failure.kind, AssumeError)
    if failure.kind == "refused":
        return AssumeError(f"STS refused to assume {target} ({inert(code)}): {message}")
    if failure.kind == "no-credentials":
        return NoSourceCredentials(
            f"no AWS credentials were found in {source} to assume {target}.",
            hint="set source_profile in the catalogue, or configure credentials (aws configure)",
        )
    return kind(failure.message, hint=failure.hint)


def _from_code(
    code: str,
    message: str,
    role_arn: str,
    target: str,
    region: str,
    mfa_serial: str | None,
    duration: int,
) -> AssumeError | None:
    """What only AssumeRole says: MFA, trust policy, duration, session name, region."""
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
        who = caller.group(1) if caller else "the calling identity"
        return AssumeDenied(
            f"{who} is not allowed to assume {role_arn}.",
            hint=f"check that the role's trust policy allows {who}, and that its own policy "
            "grants sts:AssumeRole on the role (and sts:TagSession / sts:SetSourceIdentity "
            "when those are sent)",
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
    if code in ("MalformedPolicyDocument", "PackedPolicyTooLarge"):
        return StsRefused(
            f"STS refused the session tags or policy for {target}: {message}",
            hint="send fewer or shorter session_tags",
        )
    return None
