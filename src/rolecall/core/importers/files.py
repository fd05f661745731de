"""Reading and writing the files an import produces: atomically, never half-written.

Catalogues and profile files hold no secrets, so they keep the mode the user gave them (new
files follow the umask); what matters is that a reader never sees a half-written file and a
failed write leaves the old one in place. A symlinked catalogue (dotfiles) is written through
the link, not replaced by a plain file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from rolecall.core.errors import RolecallError, UsageError
from rolecall.core.text import inert


def read_text(path: Path) -> str | None:
    """The UTF-8 text of `path`, or None if it does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise RolecallError(f"cannot read {inert(str(path))}: {e.strerror}.") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{inert(str(path))} is not UTF-8 text.") from None


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step (temporary file, fsync, rename)."""
    target = path.resolve() if path.is_symlink() else path
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            umask = os.umask(0o022)
            os.umask(umask)
            mode = 0o666 & ~umask
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise RolecallError(f"cannot write {inert(str(path))}: {e.strerror}.") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise RolecallError(f"cannot write {inert(str(path))}: {e.strerror}.") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def has_comments(text: str) -> bool:
    """Whether TOML `text` has a comment (a `#` outside every kind of string).

    Merging rewrites the file with tomli-w, which cannot keep comments, so a merge into a
    commented catalogue needs the user's consent.
    """
    i, end = 0, len(text)
    while i < end:
        for quote in ('"""', "'''"):
            if text.startswith(quote, i):
                i += 3
                while i < end and not text.startswith(quote, i):
                    i += 2 if quote == '"""' and text[i] == "\\" else 1
                i += 3
                while i < end and text[i] == quote[0]:  # up to two quotes end the string
                    i += 1
                break
        else:
            char = text[i]
            if char in "\"'":
                i += 1
                while i < end and text[i] not in (char, "\n"):
                    i += 2 if char == '"' and text[i] == "\\" else 1
                i += 1
            elif char == "#":
                return True
            else:
                i += 1
    return False


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (existing or not)."""
    with contextlib.suppress(OSError):
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    return False
