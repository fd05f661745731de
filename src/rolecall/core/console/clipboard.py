"""The system clipboard, written through stdin (never argv), and cleared after a while.

`python -m rolecall.core.console.clipboard clear SECONDS SHA256` is the detached clearer: after the
delay it empties the clipboard, but only if it still holds what we put there.

Only the system clipboard is used, never tmux: a copy through tmux (OSC 52 with
`set-clipboard on`, or `tmux load-buffer`) stays in its paste buffers, which nothing clears.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time

from rolecall.core.errors import RolecallError

_WRITERS = (
    ("wl-copy", ["wl-copy"]),
    ("xclip", ["xclip", "-selection", "clipboard"]),
    ("xsel", ["xsel", "--clipboard", "--input"]),
    ("pbcopy", ["pbcopy"]),
)
_READERS = {
    "wl-copy": ["wl-paste", "--no-newline"],
    "xclip": ["xclip", "-selection", "clipboard", "-o"],
    "xsel": ["xsel", "--clipboard", "--output"],
    "pbcopy": ["pbpaste"],
}
CLEAR_AFTER = 60
"""Seconds before a copied sign-in link is cleared from the clipboard."""


class ClipboardError(RolecallError):
    """No clipboard tool is available or it failed."""


def _tool() -> tuple[str, list[str]]:
    for name, argv in _WRITERS:
        if shutil.which(argv[0]):
            return name, argv
    raise ClipboardError(
        "no clipboard tool was found (wl-copy, xclip, xsel or pbcopy).",
        hint="install one, or use --print",
    )


def copy(text: str) -> str:
    """Put `text` on the clipboard; return the tool used."""
    name, argv = _tool()
    try:
        subprocess.run(argv, input=text.encode(), check=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        raise ClipboardError(f"{name} could not write the clipboard.") from None
    return name


def schedule_clear(text: str, seconds: int = CLEAR_AFTER) -> None:
    """Start a detached process that clears the clipboard in `seconds` if it still holds text."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    subprocess.Popen(
        [sys.executable, "-m", "rolecall.core.console.clipboard", "clear", str(seconds), digest],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def copy_for_a_while(text: str, seconds: int = CLEAR_AFTER) -> str:
    """Copy `text` and start the detached clearer (it outlives us); return the tool used."""
    name = copy(text)
    schedule_clear(text, seconds)
    return name


def _clear_later(seconds: int, digest: str) -> None:
    time.sleep(seconds)
    name, argv = _tool()
    reader = _READERS.get(name)
    if reader and shutil.which(reader[0]):
        current = subprocess.run(reader, capture_output=True, timeout=5, check=False).stdout
        if hashlib.sha256(current).hexdigest() != digest:
            return  # the user copied something else since; leave it alone
    subprocess.run(argv, input=b"", check=False, timeout=5)


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "clear":
    _clear_later(int(sys.argv[2]), sys.argv[3])
