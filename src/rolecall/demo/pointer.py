"""The running-demo pointer: how `rolecall demo --print-env` finds a demo in another terminal.

People run `eval "$(rolecall demo --print-env)"`, so what it prints runs as them. The pointer
(pid, env file, proof key) therefore lives in the user's own private directory, is written and
read as a private file (ours, 0600, in a 0700 directory of ours), and is believed only when
all of this holds: the pid is positive and alive, the env file it names is a private file in a
private directory and holds nothing but quoted `export NAME=value` lines, and the sign-in
endpoint that env file names answers a fresh challenge with the HMAC of the pointer's key
(within a second). Anything else is treated as "no demo running".

Standard library and core only: no moto, so finding a running demo stays cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import shlex
import stat
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from rolecall.core.locations import Locations
from rolecall.core.private_files import read_private, write_private

PROOF_PATH = "/rolecall-demo/proof"
"""Where the demo's sign-in endpoint answers a challenge (`?challenge=<hex>`)."""
PROBE_TIMEOUT = 1.0
"""Seconds to wait for a running demo to answer."""
_EXPORT = re.compile(r"export ([A-Z_][A-Z0-9_]*)=(.+)")


def location(env: Mapping[str, str]) -> Path:
    """Where this user's demo pointer lives.

    `$XDG_RUNTIME_DIR/rolecall/` when that is an absolute directory of ours with mode 0700,
    else the user's rolecall cache directory. `ROLECALL_HOME` is ignored on purpose: the
    demo's own exports point it into the demo world, and every terminal of the user must
    find the same pointer.
    """
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime.startswith("/") and _private_dir(Path(runtime)):
        return Path(runtime) / "rolecall" / "demo.json"
    user_env = {k: v for k, v in env.items() if k != "ROLECALL_HOME"}
    return Locations.from_env(user_env).cache_dir / "demo.json"


def publish(pointer: Path, env_file: Path, key: bytes) -> None:
    """Record this process's demo world at `pointer` (0600, in a 0700 directory)."""
    record = {"pid": os.getpid(), "env": str(env_file), "key": key.hex()}
    write_private(pointer, json.dumps(record).encode())


def withdraw(pointer: Path) -> None:
    """Remove `pointer` if it records this process (a newer demo's pointer stays)."""
    record = _record(pointer)
    if record is not None and record[0] == os.getpid():
        pointer.unlink(missing_ok=True)


def running_exports(pointer: Path) -> str | None:
    """The exports of a demo world of ours that is running and answers, else None."""
    record = _record(pointer)
    if record is None:
        return None
    pid, env_file, key = record
    if not _alive(pid) or not _private_dir(env_file.parent):
        return None
    data = read_private(env_file)
    if data is None:
        return None
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return None
    exports = _exports(text)
    if exports is None or not _answers(exports.get("ROLECALL_FEDERATION_ENDPOINT", ""), key):
        return None
    return text


def proof(key: bytes, challenge: str) -> str:
    """The answer a demo with `key` gives to `challenge`."""
    message = b"rolecall-demo-proof:" + challenge.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _record(pointer: Path) -> tuple[int, Path, bytes] | None:
    """(pid, env file, key) from a private pointer file of ours, or None."""
    if not _private_dir(pointer.parent):
        return None
    data = read_private(pointer)
    if data is None:
        return None
    try:
        record = json.loads(data)
        pid, env, key = record["pid"], record["env"], bytes.fromhex(record["key"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if type(pid) is not int or pid <= 0 or not isinstance(env, str) or len(key) < 16:
        return None
    env_file = Path(env)
    if not env_file.is_absolute():
        return None
    return pid, env_file, key


def _private_dir(path: Path) -> bool:
    """Whether `path` is a real directory (not a symlink) of ours with no group/other bits."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:  # gone, or another user's (PermissionError)
        return False
    return True


def _exports(text: str) -> dict[str, str] | None:
    """NAME -> value if every line is `export NAME=<one shell-quoted word>`, else None."""
    exports = {}
    for line in text.splitlines():
        match = _EXPORT.fullmatch(line)
        if match is None:
            return None
        name, quoted = match.groups()
        try:
            words = shlex.split(quoted)
        except ValueError:
            return None
        if len(words) != 1 or shlex.quote(words[0]) != quoted:
            return None
        exports[name] = words[0]
    return exports


def _answers(endpoint: str, key: bytes) -> bool:
    """Whether the loopback endpoint proves, within a second, that it holds `key`."""
    import http.client

    try:
        parts = urllib.parse.urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or port is None:
        return False
    challenge = secrets.token_hex(16)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT)
    try:
        connection.request("GET", f"{PROOF_PATH}?challenge={challenge}")
        response = connection.getresponse()
        body = response.read(200)
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return response.status == 200 and hmac.compare_digest(body, proof(key, challenge).encode())
