"""Who calls STS first for a role, asked in a child process (`python -m rolecall.core.sts.caller`).

The TUI shows the caller's identity in its header from the start, but boto3 is most of its
memory (and ~200 ms of imports): asking in a child keeps boto3 out of the TUI's process until
the first assume needs it. The child gets the same environment, resolves the source profile
exactly as the assumer does (`boto3.Session(profile_name=...)`, pointed at the SSO token
cache), calls `GetCallerIdentity` with the same client settings, and prints one JSON line:
`{"arn": ...}`, or `{"error": ..., "hint": ...}` with the sentence `classify` makes of a
failure, which the parent raises as a `RolecallError`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from rolecall.core.errors import RolecallError

TIMEOUT = 120.0
"""Seconds the child may take (its own STS timeouts and retries come first)."""


def caller_identity(
    *,
    profile: str | None,
    region: str,
    client_settings: Mapping[str, Any],
    env: Mapping[str, str],
    role: Mapping[str, Any],
) -> str:
    """The ARN of whoever `profile` (None: the default chain) is, asked in a child process.

    `role` names the role for error messages (`role_arn`, `target`, `duration`). Raises
    `RolecallError` with the child's sentence when the call fails.
    """
    request = {
        "profile": profile,
        "region": region,
        "client_settings": dict(client_settings),
        "role": dict(role),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=dict(env),
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise RolecallError(f"cannot ask STS who you are: {e}.") from None
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RolecallError("cannot ask STS who you are (no answer).") from None
    if "arn" in answer:
        return str(answer["arn"])
    raise RolecallError(str(answer.get("error", "GetCallerIdentity failed.")), answer.get("hint"))


def _answer(request: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    from rolecall.core.lifecycle.sso_token import point_botocore_at, token_dir
    from rolecall.core.sts.errors import classify

    profile, region, role = request["profile"], request["region"], request["role"]
    try:
        session = boto3.Session(profile_name=profile)
        point_botocore_at(session._session, session.profile_name, token_dir(env))
        client = session.client(
            "sts", region_name=region, config=Config(**request["client_settings"])
        )
        return {"arn": str(client.get_caller_identity()["Arn"])}
    except Exception as error:  # every failure becomes a sentence
        failure = classify(
            error,
            role_arn=role["role_arn"],
            target=role["target"],
            region=region,
            endpoint=f"the STS endpoint for {region}",
            profile=profile,
            via=None,
            mfa_serial=None,
            duration=role["duration"],
        )
        return {"error": failure.message, "hint": failure.hint}


def main() -> int:
    """The child: read the request on stdin, print the answer as one JSON line."""
    request = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps(_answer(request, os.environ)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
