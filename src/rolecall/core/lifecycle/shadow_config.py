"""AWS config files for a credential-server child, without a `default` profile's credentials.

Every SDK looks at the shared config and credentials files *before* the container-credentials
provider, so a `[default]` profile with keys, `credential_process`, SSO or a role would
silently win over the server. The child therefore gets private copies of both files in which
the default profile keeps its settings (region, output, endpoints, ...) but no way to get
credentials; every other profile is copied as it is, so `--profile other` still works.
"""

from __future__ import annotations

import configparser
import io
from collections.abc import Mapping
from pathlib import Path

from rolecall.core.private_files import write_private

CREDENTIAL_KEYS = frozenset(
    {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_security_token",
        "credential_process",
        "credential_source",
        "role_arn",
        "source_profile",
        "web_identity_token_file",
        "sso_session",
        "sso_start_url",
        "sso_region",
        "sso_account_id",
        "sso_role_name",
        "login_session",
    }
)
"""Keys through which a profile gets credentials (removed from the default profile)."""


def _files(env: Mapping[str, str]) -> tuple[Path, Path]:
    home = Path(env.get("HOME") or Path.home())
    config = env.get("AWS_CONFIG_FILE") or str(home / ".aws" / "config")
    credentials = env.get("AWS_SHARED_CREDENTIALS_FILE") or str(home / ".aws" / "credentials")
    return Path(config).expanduser(), Path(credentials).expanduser()


def _without_default_credentials(text: str, default: str) -> str:
    parser = configparser.RawConfigParser(strict=False, default_section="\0none")
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep key case
    try:
        parser.read_string(text)
    except configparser.Error:
        return ""  # unreadable for us: the child gets an empty file rather than a wrong one
    if parser.has_section(default):
        for key in list(parser[default]):
            if key.lower() in CREDENTIAL_KEYS:
                parser.remove_option(default, key)
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def shadow_files(env: Mapping[str, str], folder: Path, stem: str) -> dict[str, str]:
    """Write the child's config and credentials files into `folder`; their variables.

    The caller removes `folder / f"{stem}.config"` and `... .credentials` when the child
    has exited.
    """
    config, credentials = _files(env)
    out: dict[str, str] = {}
    for source, suffix, default, variable in (
        (config, "config", "default", "AWS_CONFIG_FILE"),
        (credentials, "credentials", "default", "AWS_SHARED_CREDENTIALS_FILE"),
    ):
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        target = folder / f"{stem}.{suffix}"
        write_private(target, _without_default_credentials(text, default).encode())
        out[variable] = str(target)
    return out
