"""Cache hits for `credential-process` and `env` without argparse, the catalogue or STS code.

botocore runs `credential_process` again and again, so a hit must cost little more than
starting Python. After a command has been answered (from the cache or from STS), the CLI
remembers which session-cache entry answered that exact request: the same arguments, the
same relevant environment and working directory, and the identity of the catalogue file it
was answered from (real path, device, inode, size, mtime and ctime, taken before the
catalogue was read). Next time, `serve` resolves the catalogue that request would use now,
compares identities, finds the entry from the memo, checks that the session is for the
remembered role and still fresh enough, and prints it. Anything else (no memo, another or a
changed catalogue, a re-pointed symlink, an expired session, another option, `env` on a
terminal) falls through to the full command, which answers and refreshes the memo.

Imports: `os`, `json` and `rolecall.core.locations`; on a hit also `private_files`,
`session_cache` (its `credentials` and `errors`) and `shell_env`. Nothing else.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from rolecall.core.locations import Locations, catalogue_path

if TYPE_CHECKING:
    from rolecall.core.credentials import Session

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

_FORMAT = 2


class FastRequest(NamedTuple):
    """A command line the memo can answer, taken apart."""

    command: str
    """`credential-process` or `env`."""
    shape: str
    """The output format: `json` for credential-process, `--format`'s value for env."""
    target: str
    """The target as given."""
    catalogue: str | None = None
    """`--catalogue` as given; None (no shape answered yet carries it) means the default."""


def fast_request(argv: Sequence[str]) -> FastRequest | None:
    """The request when `argv` is a shape the memo can answer, else None.

    Only the plain shapes: `credential-process TARGET`, `env TARGET [--format F]`.
    """
    args = list(argv)
    if len(args) == 2 and args[0] == "credential-process" and not args[1].startswith("-"):
        return FastRequest("credential-process", "json", args[1])
    if len(args) >= 2 and args[0] == "env" and not args[1].startswith("-"):
        rest = args[2:]
        if not rest:
            return FastRequest("env", "sh", args[1])
        if len(rest) == 2 and rest[0] == "--format":
            return FastRequest("env", rest[1], args[1])
        if len(rest) == 1 and rest[0].startswith("--format="):
            return FastRequest("env", rest[0].partition("=")[2], args[1])
    return None


def catalogue_identity(path: str | os.PathLike[str]) -> list[object] | None:
    """The catalogue file's identity: real path, device, inode, size, mtime and ctime.

    Take it before reading the catalogue: if the file changes in between, the memo then
    names the older file and misses, never the other way round. None if it cannot be read.
    """
    try:
        real = os.path.realpath(path)
        info = os.stat(real)
    except (OSError, ValueError):
        return None
    return [real, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def session_is_for(session: Session, role_arn: str) -> bool:
    """Whether `session` was issued for the catalogue role `role_arn`.

    The session must name the same role, and its assumed-role ARN the same account and role
    name: `arn:aws:iam::ACCOUNT:role/PATH/NAME` is assumed as
    `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` (an Identity Center permission set NAME
    as `assumed-role/AWSReservedSSO_NAME_<id>/SESSION`).
    """
    if session.role_arn != role_arn:
        return False
    role, assumed = role_arn.split(":", 5), session.assumed_role_arn.split(":", 5)
    if len(role) != 6 or len(assumed) != 6 or role[4] != assumed[4] or not role[4]:
        return False
    kind, _, rest = assumed[5].partition("/")
    assumed_name = rest.partition("/")[0].lower()  # IAM role names ignore case
    name = role[5].rpartition("/")[2].lower()
    return kind == "assumed-role" and (
        assumed_name == name or assumed_name.startswith(f"awsreservedsso_{name}_")
    )


def _memo_file(locations: Locations, argv: Sequence[str], env: Mapping[str, str]) -> str:
    from rolecall.core.sts.session_cache import sha256_hex

    request = json.dumps([list(argv), [env.get(k) for k in RELEVANT], os.getcwd()])
    return os.path.join(locations.cache_dir, "hits", sha256_hex(request.encode())[:40] + ".json")


def remember(
    argv: Sequence[str],
    env: Mapping[str, str],
    catalogue: list[object] | None,
    role_arn: str,
    session_key: str,
    session: Session,
) -> None:
    """Note which session answered `argv` (best effort: a failure only costs speed).

    `catalogue` is the `catalogue_identity` taken before the catalogue was read, `role_arn`
    the catalogue role the request resolved to, `session_key` the cache entry that answered.
    """
    from pathlib import Path

    from rolecall.core.errors import RolecallError
    from rolecall.core.private_files import write_private

    if catalogue is None or not session_is_for(session, role_arn):
        return
    memo = {
        "format": _FORMAT,
        "catalogue": catalogue,
        "session": session_key,
        "target": session.target,
        "role_arn": role_arn,
    }
    try:
        locations = Locations.from_env(env)
        write_private(Path(_memo_file(locations, argv, env)), json.dumps(memo).encode())
    except (OSError, RolecallError):
        return


def serve(argv: Sequence[str], env: Mapping[str, str], out: TextIO) -> bool:
    """Answer `argv` from the memo and the session cache; False when it cannot."""
    request = fast_request(argv)
    if request is None:
        return False
    if request.command == "env" and request.shape not in ("sh", "fish", "powershell", "json"):
        return False
    if out.isatty() or "ROLECALL_CACHE_MARGIN" in env:
        # A terminal is refused by the full command (secrets would stay in the scrollback);
        # a custom margin is parsed by it.
        return False
    from pathlib import Path

    from rolecall.core.private_files import read_private

    locations = Locations.from_env(env)
    data = read_private(Path(_memo_file(locations, argv, env)))
    if data is None:
        return False
    try:
        memo: Any = json.loads(data)
        if memo["format"] != _FORMAT:
            return False
        key, target, role_arn = str(memo["session"]), str(memo["target"]), str(memo["role_arn"])
        remembered = memo["catalogue"]
    except (ValueError, KeyError, TypeError):
        return False
    # The catalogue this request would use now, by the CLI's own rules, must be the very file
    # the memo was written for: a symlink re-pointed to a same-size, same-mtime file, or a
    # relative path that resolves elsewhere, is another catalogue.
    from rolecall.core.errors import RolecallError

    try:
        now = catalogue_identity(catalogue_path(request.catalogue, env, locations))
    except RolecallError:
        return False  # the full command says what is wrong with it
    if now is None or now != remembered:
        return False
    from rolecall.core.sts.session_cache import DEFAULT_MARGIN, SessionCache

    session = SessionCache(locations.sessions_dir, margin=DEFAULT_MARGIN).get(key)
    if session is None or session.target != target or not session_is_for(session, role_arn):
        return False
    from rolecall.core.shell_env import render_credential_process, render_exports

    if request.command == "credential-process":
        out.write(render_credential_process(session))
    else:
        out.write(render_exports(session, request.shape))
    return True
