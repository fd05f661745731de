"""Cache hits for `credential-process` and `env` without argparse, the catalogue or STS code.

botocore runs `credential_process` again and again, so a hit must cost little more than
starting Python. After a command has been answered (from the cache or from STS), the CLI
remembers which session-cache entry answered that exact request: the same arguments, the
same relevant environment and working directory, and the identity of the catalogue file it
was answered from (real path, device, inode, size, mtime and ctime, taken before the
catalogue was read), and of every file it includes (as they were read). Next time, `serve`
resolves the catalogue that request would use now, compares identities (one `stat` per
included file), finds the entry from the memo, checks that the session is for the
remembered role and still fresh enough, and prints it. Anything else (no memo, another or a
changed catalogue or included file, a re-pointed symlink, an expired session, another
option, `env` on a terminal) falls through to the full command, which answers and refreshes
the memo.

Every shape whose answer depends only on the arguments, the environment and the catalogue is
memoised: `--var`, `--template`, `--session-name`, `--duration`, `--region`, `--format` and
`--catalogue` (before or after the command), in any order. `--no-cache` and `--mfa-code` are
never memoised (`fast_request` refuses them, and the CLI never remembers them). The CLI
remembers a request only when `fast_request` read it as argparse did (`FastRequest.agrees`).

Templates with `{date}`, `{time}`, `{epoch}` or `{rand}`: the session cache keys a session by
its plan (template *text*, variables, role, region, duration, source), not by the rendered
name, so the full command reuses a cached session of such a template until it runs out
(the name says when it was issued, not when it was handed out). The memo maps the request to
that same entry and checks the same freshness, so both answer alike, on any day.

Imports: `os`, `time`, the lean leaves `locations`, `errors`, `private_files`, `shell_env`
and `session_file`, and the C modules `_json` and `_sha256`. No `typing`, `pathlib`, `re`,
`json` or `datetime`: each costs a cache hit milliseconds (`tests/functional/
test_cli_assume.py` holds the import set).
"""

from __future__ import annotations

import os

from rolecall.core.errors import RolecallError
from rolecall.core.locations import catalogue_file, directories
from rolecall.core.shell_env import FORMATS, json_string

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs a hit ~3 ms
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import TextIO

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

COMMANDS = ("credential-process", "env")
"""The commands the memo answers."""

ASSUME_OPTIONS = ("--session-name", "--template", "--var", "--duration", "--region")
"""Options whose values only choose the plan (and so the session-cache entry): the memo key
is the whole command line, so their values need no reading here."""


class FastRequest:
    """A command line the memo can answer, taken apart (compared by value)."""

    __slots__ = ("catalogue", "command", "options", "shape", "target")

    command: str
    """`credential-process` or `env`."""
    shape: str
    """The output format: `json` for credential-process, `--format`'s value for env."""
    target: str
    """The target as given."""
    catalogue: str | None
    """`--catalogue` as given (the last one, as argparse takes it); None means the default."""
    options: tuple[tuple[str, str], ...]
    """The assume options as given, in order: `(("--var", "ticket=X"), ...)`."""

    def __init__(
        self,
        command: str,
        shape: str,
        target: str,
        catalogue: str | None = None,
        options: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.command = command
        self.shape = shape
        self.target = target
        self.catalogue = catalogue
        self.options = options

    def _fields(self) -> tuple[object, ...]:
        return (self.command, self.shape, self.target, self.catalogue, self.options)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FastRequest) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return "FastRequest" + repr(self._fields())

    def agrees(self, command: str, target: str, catalogue: str | None, shape: str | None) -> bool:
        """Whether argparse read the command line as this request (the CLI checks before
        remembering, so a command line the two read differently is never served)."""
        expected = "json" if command == "credential-process" else shape
        return (self.command, self.target, self.catalogue, self.shape) == (
            command,
            target,
            catalogue,
            expected,
        )


def _option(args: Sequence[str], i: int) -> tuple[str, str, int] | None:
    """The option at `args[i]` as (name, value, next index); None if it has no value."""
    name, eq, value = args[i].partition("=")
    if eq:
        return name, value, i + 1
    if i + 1 >= len(args) or args[i + 1].startswith("-"):
        return None  # argparse would refuse it (or read it otherwise): the full command says
    return name, args[i + 1], i + 2


def fast_request(argv: Sequence[str]) -> FastRequest | None:
    """The request when `argv` is a shape the memo can answer, else None.

    `[--catalogue P] (credential-process|env) TARGET` with the assume options that choose a
    plan, `--catalogue`, and for `env` `--format`, as `--name VALUE` or `--name=VALUE`, in any
    order. Anything else (`--no-cache`, `--mfa-code`, `--help`, `--`, an abbreviated or
    unknown option, a second positional) is None: the full command answers it.
    """
    args = list(argv)
    catalogue: str | None = None
    i = 0
    while i < len(args) and args[i].partition("=")[0] == "--catalogue":
        found = _option(args, i)
        if found is None:
            return None
        catalogue, i = found[1], found[2]
    if i >= len(args) or args[i] not in COMMANDS:
        return None
    command = args[i]
    allowed = (*ASSUME_OPTIONS, "--catalogue", *(("--format",) if command == "env" else ()))
    shape = "sh" if command == "env" else "json"
    target: str | None = None
    options: list[tuple[str, str]] = []
    i += 1
    while i < len(args):
        if not args[i].startswith("-"):
            if target is not None:
                return None
            target, i = args[i], i + 1
            continue
        found = _option(args, i)
        if found is None or found[0] not in allowed:
            return None
        name, value, i = found
        if name == "--catalogue":
            catalogue = value
        elif name == "--format":
            shape = value
        else:
            options.append((name, value))
    if target is None or (command == "env" and shape not in FORMATS):
        return None
    return FastRequest(command, shape, target, catalogue, tuple(options))


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


def issued_for(role_arn: str, session_role_arn: str, assumed_role_arn: str) -> bool:
    """Whether a session (its role ARN and assumed-role ARN) was issued for `role_arn`.

    The session must name the same role, and its assumed-role ARN the same account and role
    name: `arn:aws:iam::ACCOUNT:role/PATH/NAME` is assumed as
    `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` (an Identity Center permission set NAME
    as `assumed-role/AWSReservedSSO_NAME_<id>/SESSION`).
    """
    if session_role_arn != role_arn:
        return False
    role, assumed = role_arn.split(":", 5), assumed_role_arn.split(":", 5)
    if len(role) != 6 or len(assumed) != 6 or role[4] != assumed[4] or not role[4]:
        return False
    kind, _, rest = assumed[5].partition("/")
    assumed_name = rest.partition("/")[0].lower()  # IAM role names ignore case
    name = role[5].rpartition("/")[2].lower()
    return kind == "assumed-role" and (
        assumed_name == name or assumed_name.startswith(f"awsreservedsso_{name}_")
    )


def session_is_for(session: Session, role_arn: str) -> bool:
    """Whether `session` was issued for the catalogue role `role_arn` (see `issued_for`)."""
    return issued_for(role_arn, session.role_arn, session.assumed_role_arn)


def _directories(env: Mapping[str, str]) -> tuple[str, str, str]:
    found = directories(env)
    if found is None:  # not Linux: platformdirs decides
        from rolecall.core.locations import Locations

        return tuple(str(d) for d in Locations.from_env(env))  # type: ignore[return-value]
    return found


def _memo_file(cache_dir: str, argv: Sequence[str], env: Mapping[str, str]) -> str:
    from rolecall.core.sts.session_file import sha256_hex

    # `json.dumps([argv, [env...], cwd])`, written without json.
    values = [json_string(v) if v is not None else "null" for v in (env.get(k) for k in RELEVANT)]
    request = (
        f"[[{', '.join(json_string(a) for a in argv)}], [{', '.join(values)}], "
        f"{json_string(os.getcwd())}]"
    )
    return os.path.join(cache_dir, "hits", sha256_hex(request.encode())[:40] + ".json")


def remember(
    argv: Sequence[str],
    env: Mapping[str, str],
    catalogue: list[object] | None,
    role_arn: str,
    session_key: str,
    session: Session,
    includes: Sequence[Sequence[object]] = (),
) -> None:
    """Note which session answered `argv` (best effort: a failure only costs speed).

    `catalogue` is the `catalogue_identity` taken before the catalogue was read, `role_arn`
    the catalogue role the request resolved to, `session_key` the cache entry that answered,
    `includes` the catalogue's included files as they were read (`Catalogue.includes`).
    """
    import json
    from pathlib import Path

    from rolecall.core.private_files import write_private

    if catalogue is None or not session_is_for(session, role_arn):
        return
    memo = {
        "format": _FORMAT,
        "catalogue": catalogue,
        "includes": [list(i) for i in includes],
        "session": session_key,
        "target": session.target,
        "role_arn": role_arn,
    }
    try:
        cache_dir = _directories(env)[1]
        write_private(Path(_memo_file(cache_dir, argv, env)), json.dumps(memo).encode())
    except (OSError, RolecallError):
        return


def _same_files(includes: object) -> bool:
    """Whether every included file is still the one the memo was written for (a `stat` each:
    an included file edited, replaced or removed makes the catalogue another one)."""
    if not isinstance(includes, list):
        return False
    for entry in includes:
        if not isinstance(entry, list) or len(entry) != 6 or not isinstance(entry[0], str):
            return False
        try:
            info = os.stat(entry[0])
        except (OSError, ValueError):
            return False
        now = [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
        if now != entry[1:]:
            return False
    return True


def serve(argv: Sequence[str], env: Mapping[str, str], out: TextIO) -> bool:
    """Answer `argv` from the memo and the session cache; False when it cannot."""
    request = fast_request(argv)
    if request is None:
        return False
    if out.isatty() or "ROLECALL_CACHE_MARGIN" in env:
        # A terminal is refused by the full command (secrets would stay in the scrollback);
        # a custom margin is parsed by it.
        return False
    from rolecall.core.private_files import read_private
    from rolecall.core.sts.session_file import DEFAULT_MARGIN, load_json, read_fresh

    config_dir, cache_dir, _ = _directories(env)
    data = read_private(_memo_file(cache_dir, argv, env))
    if data is None:
        return False
    try:
        memo = load_json(data)
        if not isinstance(memo, dict) or memo["format"] != _FORMAT:
            return False
        key, target, role_arn = str(memo["session"]), str(memo["target"]), str(memo["role_arn"])
        remembered = memo["catalogue"]
        includes = memo["includes"]
    except (ValueError, KeyError, TypeError):
        return False
    if len(key) != 40 or not all(c in "0123456789abcdef" for c in key):
        return False  # a cache key is 40 hex digits, never a path
    # The catalogue this request would use now, by the CLI's own rules, must be the very file
    # the memo was written for: a symlink re-pointed to a same-size, same-mtime file, or a
    # relative path that resolves elsewhere, is another catalogue.
    try:
        now = catalogue_identity(catalogue_file(request.catalogue, env, config_dir))
    except RolecallError:
        return False  # the full command says what is wrong with it
    if now is None or now != remembered or not _same_files(includes):
        return False
    import time

    data = read_private(os.path.join(cache_dir, "sessions", key + ".json"))
    session = None if data is None else read_fresh(data, DEFAULT_MARGIN, time.time())
    if session is None or session["target"] != target:
        return False
    if not issued_for(role_arn, session["role_arn"], session["assumed_role_arn"]):
        return False
    from rolecall.core.shell_env import credential_process_text, exports_text, session_variables
    from rolecall.core.sts.session_file import epoch_of

    creds = session["credentials"]
    expires = epoch_of(creds["Expiration"])
    assert expires is not None  # read_fresh read it
    variables = session_variables(
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
        expiration=creds["Expiration"],
        expiration_epoch=expires,
        region=session["region"],
        target=session["target"],
        session_name=session["session_name"],
        assumed_role_arn=session["assumed_role_arn"],
    )
    if request.command == "credential-process":
        out.write(credential_process_text(variables))
    else:
        out.write(exports_text(variables, request.shape))
    return True
