"""Cache hits for `credential-process` and `env` without argparse, the catalogue or STS code.

botocore runs `credential_process` again and again, so a hit must cost little more than
starting Python. After a command has been answered (from the cache or from STS), the CLI
remembers which session-cache entry answered that exact request: the same arguments, the
same relevant environment, the same catalogue file (path, size, mtime). Next time, `serve`
finds the entry from that memo alone and prints it if the session is still fresh enough;
anything else (no memo, a changed catalogue, an expired session, another option) falls
through to the full command, which answers and refreshes the memo.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from rolecall.core.locations import Locations

RELEVANT = (
    "ROLECALL_HOME",
    "ROLECALL_CATALOGUE",
    "ROLECALL_CACHE_MARGIN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_CONFIG_FILE",
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
)
"""Environment variables that can change which session answers a request."""

_FORMAT = 1


def fast_request(argv: Sequence[str]) -> tuple[str, str] | None:
    """(command, output format) when `argv` is a shape the memo can answer, else None.

    Only the plain shapes: `credential-process TARGET`, `env TARGET [--format F]`.
    """
    args = list(argv)
    if len(args) == 2 and args[0] == "credential-process" and not args[1].startswith("-"):
        return "credential-process", "json"
    if len(args) >= 2 and args[0] == "env" and not args[1].startswith("-"):
        rest = args[2:]
        if not rest:
            return "env", "sh"
        if len(rest) == 2 and rest[0] == "--format":
            return "env", rest[1]
        if len(rest) == 1 and rest[0].startswith("--format="):
            return "env", rest[0].partition("=")[2]
    return None


def _memo_file(locations: Locations, argv: Sequence[str], env: Mapping[str, str]) -> str:
    from rolecall.core.sts.session_cache import sha256_hex

    request = json.dumps([list(argv), [env.get(k) for k in RELEVANT], os.getcwd()])
    return os.path.join(locations.cache_dir, "hits", sha256_hex(request.encode())[:40] + ".json")


def remember(
    argv: Sequence[str],
    env: Mapping[str, str],
    catalogue: str,
    session_key: str,
    target: str,
) -> None:
    """Note which session answered `argv` (best effort: a failure only costs speed)."""
    from pathlib import Path

    from rolecall.core.errors import RolecallError
    from rolecall.core.private_files import write_private

    try:
        info = os.stat(catalogue)
        memo = {
            "format": _FORMAT,
            "catalogue": os.path.abspath(catalogue),
            "size": info.st_size,
            "mtime_ns": info.st_mtime_ns,
            "session": session_key,
            "target": target,
        }
        locations = Locations.from_env(env)
        write_private(Path(_memo_file(locations, argv, env)), json.dumps(memo).encode())
    except (OSError, RolecallError):
        return


def serve(argv: Sequence[str], env: Mapping[str, str], out: TextIO) -> bool:
    """Answer `argv` from the memo and the session cache; False when it cannot."""
    request = fast_request(argv)
    if request is None:
        return False
    command, shape = request
    if command == "env" and shape not in ("sh", "fish", "powershell", "json"):
        return False
    from pathlib import Path

    from rolecall.core.private_files import read_private
    from rolecall.core.sts.session_cache import DEFAULT_MARGIN, SessionCache

    locations = Locations.from_env(env)
    data = read_private(Path(_memo_file(locations, argv, env)))
    if data is None:
        return False
    try:
        memo: Any = json.loads(data)
        info = os.stat(memo["catalogue"])
        fresh = (
            memo["format"] == _FORMAT
            and info.st_size == memo["size"]
            and info.st_mtime_ns == memo["mtime_ns"]
        )
        key, target = str(memo["session"]), str(memo["target"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not fresh or "ROLECALL_CACHE_MARGIN" in env:
        return False  # a custom margin is parsed by the full command
    session = SessionCache(locations.sessions_dir, margin=DEFAULT_MARGIN).get(key)
    if session is None or session.target != target:
        return False
    from rolecall.core.shell_env import render_credential_process, render_exports

    if command == "credential-process":
        out.write(render_credential_process(session))
    else:
        out.write(render_exports(session, shape))
    return True
