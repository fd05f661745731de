"""What a shell started from the TUI sees first, and the child side of `w`.

`s` and `w` give the shell exactly the environment `rolecall exec` would (the TUI's own
environment, demo endpoints included, plus the identity), print the banner `rolecall shell`
prints, and name the identity in the terminal title while the shell runs (pushed and popped
on the terminal's title stack, so the old title comes back).

`w` cannot hand its environment to tmux on the command line (argv is public), so it writes
a private hand-off file (0600, in the cache directory) naming the environment and the
session's cache key; `python -m rolecall.ui.shell_start FILE` in the new window reads and
removes it, takes the session from the cache (never from the file) and becomes the shell.
This module imports no Textual: the window starts in a blink.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from rolecall.core.credentials import Session
from rolecall.core.private_files import ensure_private_dir, read_private, write_private
from rolecall.core.text import inert
from rolecall.ui.presenter import mask

PUSH_TITLE = "\x1b[22;2t"
"""Save the terminal's title on its title stack (xterm, tmux, most others)."""
POP_TITLE = "\x1b[23;2t"
"""Restore the title saved by `PUSH_TITLE`."""


def banner(session: Session, presenter: bool = False) -> str:
    """Who the shell is and until when (the line `rolecall shell` prints)."""
    arn = inert(mask(session.assumed_role_arn, presenter))
    return f"rolecall: {arn} until {session.expiration:%H:%M} UTC; `exit` to leave.\n"


def title(session: Session, presenter: bool = False) -> str:
    """The escape sequences that save the title and set it to the identity."""
    name = inert(mask(f"{session.target} · {session.assumed_role_arn}", presenter))
    return f"{PUSH_TITLE}\x1b]2;rolecall: {name}\x07"


def hand_off(
    folder: Path, key: str, sessions: Path, env: Mapping[str, str], presenter: bool
) -> Path:
    """Write the request for a window's shell (0600) and return its path."""
    ensure_private_dir(folder)
    import secrets  # deferred: hmac and hashlib are not needed for the TUI's first frame

    path = folder / f"window-{secrets.token_hex(8)}.json"
    request = {"key": key, "sessions": str(sessions), "env": dict(env), "presenter": presenter}
    write_private(path, json.dumps(request).encode())
    return path


def window_command(path: Path) -> list[str]:
    """The argv that turns a new tmux window into the shell requested in `path`."""
    return [sys.executable, "-m", "rolecall.ui.shell_start", str(path)]


def main(argv: list[str]) -> int:
    """In the new window: read the request, become the shell (or say why not)."""
    from rolecall.core.shell_env import child_environment
    from rolecall.core.sts.session_cache import SessionCache

    path = Path(argv[0])
    raw = read_private(path)
    path.unlink(missing_ok=True)
    if raw is None:
        return linger("rolecall: the window's request is missing or not private.")
    request = json.loads(raw)
    base: dict[str, str] = request["env"]
    session = SessionCache(Path(request["sessions"])).get(request["key"], margin=0)
    if session is None:
        return linger(
            "rolecall: that session was forgotten or has expired; assume it again in rolecall."
        )
    shell = base.get("SHELL") or "/bin/sh"
    sys.stderr.write(banner(session, bool(request.get("presenter"))))
    sys.stderr.flush()
    try:
        os.execvpe(shell, [shell], child_environment(base, session))  # noqa: S606 -- no shell
    except OSError as error:
        return linger(f"rolecall: cannot start {inert(shell)}: {error.strerror}.")
    return 0  # not reached


def linger(message: str) -> int:
    """Say why the window has no shell, and keep it open until a key is pressed."""
    sys.stderr.write(message + "\nPress enter to close this window.\n")
    sys.stderr.flush()
    with contextlib.suppress(EOFError):
        input()
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
