"""The environment a child process gets, and `rolecall env` output for each shell.

The environment is built as data (no shell text is ever run): stale credential variables are
removed so that they cannot win over ours (botocore prefers AWS_SECURITY_TOKEN over
AWS_SESSION_TOKEN and AWS_DEFAULT_PROFILE over AWS_PROFILE, and a dangling AWS_PROFILE breaks
client creation), both region variables are set (botocore reads only AWS_DEFAULT_REGION, other
SDKs AWS_REGION), and ROLECALL_* markers tell prompts and nested starts who we are.

The renderers work from the variables alone (`session_variables`), so the cache-hit fast path
prints exactly what the full command prints while importing nothing: no `typing`, `datetime`,
`json` (the C string encoder `_json` writes the JSON) or `shlex` (whose `re` costs ~5 ms).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the cache-hit fast path renders through here
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.core.credentials import Session

try:  # the C encoder that json itself uses
    from _json import encode_basestring_ascii as _encode_ascii
except ImportError:  # not CPython: the pure-Python one json falls back to
    from json.encoder import py_encode_basestring_ascii as _encode_ascii


def json_string(value: str) -> str:
    """`json.dumps(value)` for a string, without importing json (and its `re`)."""
    return str(_encode_ascii(value))


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
    from rolecall.core.credentials import rfc3339

    creds = session.credentials
    return session_variables(
        access_key_id=creds.access_key_id,
        secret_access_key=creds.secret_access_key.reveal(),
        session_token=creds.session_token.reveal(),
        expiration=rfc3339(creds.expiration),
        expiration_epoch=int(creds.expiration.timestamp()),
        region=session.region,
        target=session.target,
        session_name=session.session_name,
        assumed_role_arn=session.assumed_role_arn,
    )


def session_variables(
    *,
    access_key_id: str,
    secret_access_key: str,
    session_token: str,
    expiration: str,
    expiration_epoch: int,
    region: str,
    target: str,
    session_name: str,
    assumed_role_arn: str,
) -> dict[str, str]:
    """The variables that carry a session, from its fields.

    `expiration` is RFC 3339 UTC (`...Z`) and `expiration_epoch` the same instant in seconds.
    The cache-hit fast path calls this directly (no `Session`, no `datetime`).
    """
    return {
        "AWS_ACCESS_KEY_ID": access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret_access_key,
        "AWS_SESSION_TOKEN": session_token,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_CREDENTIAL_EXPIRATION": expiration,
        "AWS_SESSION_EXPIRATION": expiration,
        MARKER: target,
        "ROLECALL_SESSION_NAME": session_name,
        "ROLECALL_ASSUMED_ROLE_ARN": assumed_role_arn,
        "ROLECALL_EXPIRATION": expiration,
        # The same instant in seconds: `rolecall prompt --init` shell functions compare it
        # with the shell's own clock without parsing a date.
        "ROLECALL_EXPIRATION_EPOCH": str(expiration_epoch),
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
    env.pop("ROLECALL_EXPIRATION_EPOCH", None)
    return env


def child_environment(base: Mapping[str, str], session: Session) -> dict[str, str]:
    """`base` without stale credential variables, plus the identity of `session`."""
    env = {k: v for k, v in base.items() if k not in STALE and k != "ROLECALL_SERVER"}
    env.update(identity_variables(session))
    return env


def render_credential_process(session: Session) -> str:
    """Version 1 `credential_process` JSON (RFC 3339 UTC `Z` expiry), one line."""
    return credential_process_text(identity_variables(session))


def credential_process_text(variables: Mapping[str, str]) -> str:
    """`render_credential_process` from `session_variables`: byte for byte `json.dumps`."""
    document = {
        "AccessKeyId": variables["AWS_ACCESS_KEY_ID"],
        "SecretAccessKey": variables["AWS_SECRET_ACCESS_KEY"],
        "SessionToken": variables["AWS_SESSION_TOKEN"],
        "Expiration": variables["AWS_CREDENTIAL_EXPIRATION"],
    }
    fields = "".join(f", {json_string(k)}: {json_string(v)}" for k, v in document.items())
    return '{"Version": 1' + fields + "}\n"


FORMATS = ("sh", "fish", "powershell", "json")
"""Output formats of `rolecall env`."""


def render_exports(session: Session, shell: str) -> str:
    """Text that, evaluated by `shell`, switches the current shell to `session`."""
    return exports_text(identity_variables(session), shell)


def exports_text(variables: Mapping[str, str], shell: str) -> str:
    """`render_exports` from `session_variables`."""
    stale = [name for name in STALE if name not in variables]
    if shell == "json":
        # `json.dumps({"set": variables, "unset": stale}, indent=2)`, byte for byte.
        pairs = ",\n".join(f"    {json_string(k)}: {json_string(v)}" for k, v in variables.items())
        names = ",\n".join(f"    {json_string(name)}" for name in stale)
        return '{\n  "set": {\n' + pairs + '\n  },\n  "unset": [\n' + names + "\n  ]\n}\n"
    if shell == "fish":
        lines = [f"set -e {name};" for name in stale]
        lines += [f"set -gx {k} {_fish_quote(v)};" for k, v in variables.items()]
    elif shell == "powershell":
        lines = [f"Remove-Item Env:{name} -ErrorAction SilentlyContinue" for name in stale]
        lines += [f"$Env:{k} = {_powershell_quote(v)}" for k, v in variables.items()]
    else:
        lines = [f"unset {' '.join(stale)}"]
        lines += [f"export {k}={sh_quote(v)}" for k, v in variables.items()]
    return "\n".join(lines) + "\n"


_SH_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-")


def sh_quote(value: str) -> str:
    """`shlex.quote`, byte for byte, without importing `shlex` and `re`."""
    if not value:
        return "''"
    if all(c in _SH_SAFE for c in value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
