"""Where rolecall keeps its files: catalogue, cache, state and journal.

`ROLECALL_HOME` moves everything under one directory (tests and the demo use it); otherwise
the platform's user directories are used (`~/.config/rolecall`, `~/.cache/rolecall`,
`~/.local/state/rolecall` on Linux).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

APP = "rolecall"


class Locations(NamedTuple):
    """The directories rolecall reads and writes."""

    config_dir: Path
    """Holds the default catalogue `accounts.toml` and user settings."""
    cache_dir: Path
    """Parsed catalogues and cached sessions (private, 0700)."""
    state_dir: Path
    """The state file (favourites, usage) and the journal."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Locations:
        """Locations from `ROLECALL_HOME`, else the platform's user directories."""
        home = env.get("ROLECALL_HOME")
        if home:
            root = Path(home).expanduser()
            return cls(root / "config", root / "cache", root / "state")
        if sys.platform.startswith("linux"):
            # The XDG base directories, as platformdirs computes them on Linux, without its
            # 5 ms import on every credential_process call.
            user = Path(env.get("HOME") or Path.home())

            def xdg(variable: str, default: str) -> Path:
                value = env.get(variable, "")
                return Path(value) if value.startswith("/") else user / default

            return cls(
                xdg("XDG_CONFIG_HOME", ".config") / APP,
                xdg("XDG_CACHE_HOME", ".cache") / APP,
                xdg("XDG_STATE_HOME", ".local/state") / APP,
            )
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
    """The catalogue to use: `--catalogue`, then `ROLECALL_CATALOGUE`, then the config dir."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = env.get("ROLECALL_CATALOGUE")
    if from_env:
        return Path(from_env).expanduser()
    return locations.default_catalogue
