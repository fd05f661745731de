"""Where rolecall keeps its files: catalogue, cache, state and journal.

`ROLECALL_HOME` moves everything under one directory (tests and the demo use it); otherwise
the platform's user directories are used (`~/.config/rolecall`, `~/.cache/rolecall`,
`~/.local/state/rolecall` on Linux).

Trusted paths: `config.toml` names the browser command rolecall runs and the catalogue names
the roles it assumes, so whoever can change them acts as us; the state and journal record what
we did. Such a path is trusted (`check_trusted`) when it and every directory above it (up to
`/`) is owned by us or by root, and none of them is writable by group or other; a
world-writable directory with the sticky bit (like /tmp) is accepted above an entry of ours,
since no one else can rename that entry. Reading is not restricted: a catalogue kept in git may
well be 0644. A symlink must itself be ours (or root's) and its target is held to the same
owner and mode rules (the target's own ancestors are not walked). A missing path is fine: the
directories that would hold it decide. The cost is one `lstat` per path component.
"""

from __future__ import annotations

import os
import stat
import sys

from rolecall.core.errors import RolecallError

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the fast path ~3 ms

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path
    from typing import TypeVar

    _P = TypeVar("_P", str, Path)

APP = "rolecall"


def directories(env: Mapping[str, str]) -> tuple[str, str, str] | None:
    """The config, cache and state directories as strings, or None where platformdirs decides.

    The one place these rules live. It imports nothing (the cache-hit fast path calls it
    without pathlib); `Locations.from_env` wraps its answer in `Path`s.
    """
    home = env.get("ROLECALL_HOME")
    if home:
        root = os.path.expanduser(home)
        return (
            os.path.join(root, "config"),
            os.path.join(root, "cache"),
            os.path.join(root, "state"),
        )
    if not sys.platform.startswith("linux"):
        return None
    # The XDG base directories, as platformdirs computes them on Linux, without its 5 ms import
    # on every credential_process call.
    user = env.get("HOME") or os.path.expanduser("~")

    def xdg(variable: str, default: str) -> str:
        value = env.get(variable, "")
        return os.path.join(value if value.startswith("/") else os.path.join(user, default), APP)

    return (
        xdg("XDG_CONFIG_HOME", ".config"),
        xdg("XDG_CACHE_HOME", ".cache"),
        xdg("XDG_STATE_HOME", ".local/state"),
    )


class Locations:
    """The directories rolecall reads and writes (immutable, compared by value).

    A plain class rather than a `NamedTuple`: this module is on the cache-hit fast path,
    which must not import `typing`'s run time or `pathlib` (`from_env` imports it on use).
    """

    __slots__ = ("cache_dir", "config_dir", "state_dir")

    config_dir: Path
    """Holds the default catalogue `accounts.toml` and user settings."""
    cache_dir: Path
    """Parsed catalogues and cached sessions (private, 0700)."""
    state_dir: Path
    """The state file (favourites, usage) and the journal."""

    def __init__(self, config_dir: Path, cache_dir: Path, state_dir: Path) -> None:
        object.__setattr__(self, "config_dir", config_dir)
        object.__setattr__(self, "cache_dir", cache_dir)
        object.__setattr__(self, "state_dir", state_dir)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Locations is immutable ({name})")

    def __iter__(self) -> Iterator[Path]:
        return iter((self.config_dir, self.cache_dir, self.state_dir))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Locations) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return (
            f"Locations(config_dir={self.config_dir!r}, cache_dir={self.cache_dir!r}, "
            f"state_dir={self.state_dir!r})"
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Locations:
        """Locations from `ROLECALL_HOME`, else the platform's user directories."""
        from pathlib import Path

        found = directories(env)
        if found is not None:
            return cls(*(Path(d) for d in found))
        import platformdirs  # macOS, Windows, ...: their own conventions

        return cls(
            Path(platformdirs.user_config_dir(APP)),
            Path(platformdirs.user_cache_dir(APP)),
            Path(platformdirs.user_state_dir(APP)),
        )

    @property
    def default_catalogue(self) -> Path:
        """The catalogue used when neither --catalogue nor ROLECALL_CATALOGUE is given."""
        return self.config_dir / "accounts.toml"

    @property
    def sessions_dir(self) -> Path:
        """Cached sessions, one file per key."""
        return self.cache_dir / "sessions"

    @property
    def state_file(self) -> Path:
        """Favourites, last template per role, usage counts (TOML written by rolecall)."""
        return self.state_dir / "state.toml"

    @property
    def journal_file(self) -> Path:
        """The append-only journal of assumptions and launches (JSON lines)."""
        return self.state_dir / "journal.jsonl"


def catalogue_path(explicit: str | None, env: Mapping[str, str], locations: Locations) -> Path:
    """The catalogue to use: `--catalogue`, then `ROLECALL_CATALOGUE`, then the config dir.

    Raises `UntrustedPath` when another user could change it: the default catalogue and every
    directory above it must be ours (or root's) and not writable by group or other. A catalogue
    the user names is held to that rule for the file alone: where they keep it (a checkout, a
    shared drive) is their choice, but a file someone else owns or may write is still refused.
    """
    from pathlib import Path

    return Path(catalogue_file(explicit, env, str(locations.config_dir)))


def catalogue_file(explicit: str | None, env: Mapping[str, str], config_dir: str) -> str:
    """`catalogue_path` as a string, without pathlib (the cache-hit fast path's form)."""
    if explicit:
        return check_trusted(os.path.expanduser(explicit), ancestors=False)
    from_env = env.get("ROLECALL_CATALOGUE")
    if from_env:
        return check_trusted(os.path.expanduser(from_env), ancestors=False)
    return check_trusted(os.path.join(config_dir, "accounts.toml"))


_HINT_FOREIGN = "point ROLECALL_HOME at a directory of your own"


class UntrustedPath(RolecallError):
    """A settings, catalogue or state path that another user could change."""


def check_trusted(path: _P, *, ancestors: bool = True) -> _P:
    """Return `path` if it, and with `ancestors` every directory above it, is safe to trust.

    Raises `UntrustedPath` naming the first offending path and the fix.
    """
    if not hasattr(os, "getuid"):  # no POSIX owners (Windows): nothing to compare
        return path
    trusted = {os.getuid(), 0}
    current = os.path.abspath(path)
    while True:
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            pass  # not there yet: the directory that would hold it decides
        except OSError as e:
            raise UntrustedPath(
                f"cannot inspect {current}: {e.strerror}.",
                hint="check the path and its permissions",
            ) from None
        else:
            _check(current, info, trusted)
        if not ancestors:
            return path
        parent = os.path.dirname(current)
        if parent == current:
            return path
        current = parent


def _check(name: str, info: os.stat_result, trusted: set[int]) -> None:
    if stat.S_ISLNK(info.st_mode):
        if info.st_uid not in trusted:
            raise UntrustedPath(f"{name} is a symlink that belongs to another user.", _HINT_FOREIGN)
        try:
            info = os.stat(name)
        except OSError:
            return  # a dangling link: reading it fails later, with its own message
    if info.st_uid not in trusted:
        raise UntrustedPath(f"{name} belongs to another user.", _HINT_FOREIGN)
    sticky_dir = stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX
    if info.st_mode & 0o022 and not sticky_dir:
        raise UntrustedPath(
            f"{name} can be changed by other users.",
            hint=f"run: chmod go-w {name}",
        )
