"""The environment a child process gets, and `rolecall env` output for each shell.

The environment is built as data (no shell text is ever run): stale credential variables are
removed so that they cannot win over ours (botocore prefers AWS_SECURITY_TOKEN over
AWS_SESSION_TOKEN and AWS_DEFAULT_PROFILE over AWS_PROFILE, and a dangling AWS_PROFILE breaks
client creation), both region variables are set (botocore reads only AWS_DEFAULT_REGION, other
SDKs AWS_REGION), and ROLECALL_* markers tell prompts and nested starts who we are.
"""

from __future__ import annotations

from collections.abc import Mapping

from rolecall.core.credentials import Session, rfc3339

STALE = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CREDENTIAL_FILE",
    "AWS_SDK_LOAD_CONFIG",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "AWS_ACCOUNT_ID",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_VAULT",
    "AWSUME_PROFILE",
    "AWSUME_EXPIRATION",
)
"""Variables removed from a child environment before the identity is added."""

MARKER = "ROLECALL_TARGET"
"""Set in every rolecall child; its presence refuses a nested `rolecall shell`."""


def identity_variables(session: Session) -> dict[str, str]:
    """The variables that carry `session` (credentials, region, expiry, markers)."""
    creds = session.credentials
    expiration = rfc3339(creds.expiration)
    return {
        "AWS_ACCESS_KEY_ID": creds.access_key_id,
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key.reveal(),
        "AWS_SESSION_TOKEN": creds.session_token.reveal(),
        "AWS_REGION": session.region,
        "AWS_DEFAULT_REGION": session.region,
        "AWS_CREDENTIAL_EXPIRATION": expiration,
        "AWS_SESSION_EXPIRATION": expiration,
        MARKER: session.target,
        "ROLECALL_SESSION_NAME": session.session_name,
        "ROLECALL_ASSUMED_ROLE_ARN": session.assumed_role_arn,
        "ROLECALL_EXPIRATION": expiration,
    }


def server_environment(
    base: Mapping[str, str], session: Session, url: str, token: str, token_file: str
) -> dict[str, str]:
    """`base` without stale credential variables, pointed at a credential server.

    No key, token or profile variable is set: each would win over the server in every SDK.
    There is no expiry either (the server renews); `ROLECALL_SERVER` says who keeps it.
    """
    env = {k: v for k, v in base.items() if k not in STALE}
    env.update(
        {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": token_file,
            "AWS_REGION": session.region,
            "AWS_DEFAULT_REGION": session.region,
            MARKER: session.target,
            "ROLECALL_SESSION_NAME": session.session_name,
            "ROLECALL_ASSUMED_ROLE_ARN": session.assumed_role_arn,
            "ROLECALL_SERVER": url,
        }
    )
    env.pop("ROLECALL_EXPIRATION", None)
    return env


def child_environment(base: Mapping[str, str], session: Session) -> dict[str, str]:
    """`base` without stale credential variables, plus the identity of `session`."""
    env = {k: v for k, v in base.items() if k not in STALE and k != "ROLECALL_SERVER"}
    env.update(identity_variables(session))
    return env


def render_credential_process(session: Session) -> str:
    """Version 1 `credential_process` JSON (RFC 3339 UTC `Z` expiry), one line."""
    import json

    creds = session.credentials
    document = {
        "Version": 1,
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key.reveal(),
        "SessionToken": creds.session_token.reveal(),
        "Expiration": rfc3339(creds.expiration),
    }
    return json.dumps(document) + "\n"


FORMATS = ("sh", "fish", "powershell", "json")
"""Output formats of `rolecall env`."""


def render_exports(session: Session, shell: str) -> str:
    """Text that, evaluated by `shell`, switches the current shell to `session`."""
    variables = identity_variables(session)
    stale = [name for name in STALE if name not in variables]
    if shell == "json":
        import json

        return json.dumps({"set": variables, "unset": stale}, indent=2) + "\n"
    if shell == "fish":
        lines = [f"set -e {name};" for name in stale]
        lines += [f"set -gx {k} {_fish_quote(v)};" for k, v in variables.items()]
    elif shell == "powershell":
        lines = [f"Remove-Item Env:{name} -ErrorAction SilentlyContinue" for name in stale]
        lines += [f"$Env:{k} = {_powershell_quote(v)}" for k, v in variables.items()]
    else:
        import shlex

        lines = [f"unset {' '.join(stale)}"]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in variables.items()]
    return "\n".join(lines) + "\n"


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
