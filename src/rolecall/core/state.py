"""User state that rolecall writes: favourites, usage counts, last template per role.

A separate TOML file (written with tomli-w, atomically, 0600), never the catalogue itself.
A damaged file is set aside and replaced rather than breaking start-up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rolecall.core.locations import check_trusted
from rolecall.core.private_files import read_private, write_private


class State:
    """Favourites, usage counts and last-used templates, keyed by target (`ACCOUNT/ROLE`)."""

    def __init__(
        self,
        path: Path,
        favourites: set[str] | None = None,
        usage: Mapping[str, int] | None = None,
        templates: Mapping[str, str] | None = None,
        alphabetical: bool = False,
    ) -> None:
        self.path = path
        """The state file."""
        self.favourites: set[str] = set(favourites or ())
        """Targets marked with a star; listed first."""
        self.usage: dict[str, int] = dict(usage or {})
        """How often each target was assumed; most used come next."""
        self.templates: dict[str, str] = dict(templates or {})
        """The session-name template last picked for each target."""
        self.alphabetical = alphabetical
        """Whether the list is in plain alphabetical order instead."""

    @classmethod
    def load(cls, path: Path) -> State:
        """Read the state file; a missing or damaged one gives an empty state.

        Raises `UntrustedPath` when another user could change the file, the state directory or
        a directory above it (a group-readable file of ours is still ignored, as before).
        """
        check_trusted(path)
        data = read_private(path)
        if not data:
            return cls(path)
        import tomllib  # deferred: no state file yet costs no TOML parser (the TUI's start)

        try:
            document: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            with contextlib.suppress(OSError):
                path.replace(path.with_suffix(".toml.damaged"))
            return cls(path)
        favourites = document.get("favourites", [])
        usage = document.get("usage", {})
        templates = document.get("templates", {})
        order = document.get("order", "usage")
        return cls(
            path,
            {f for f in favourites if isinstance(f, str)}
            if isinstance(favourites, list)
            else set(),
            {k: v for k, v in usage.items() if type(v) is int} if isinstance(usage, dict) else {},
            {k: v for k, v in templates.items() if isinstance(v, str)}
            if isinstance(templates, dict)
            else {},
            order == "alphabetical",
        )

    def save(self) -> None:
        """Write the state file (sorted, so it diffs well)."""
        import tomli_w

        document = {
            "order": "alphabetical" if self.alphabetical else "usage",
            "favourites": sorted(self.favourites),
            "usage": dict(sorted(self.usage.items())),
            "templates": dict(sorted(self.templates.items())),
        }
        write_private(self.path, tomli_w.dumps(document).encode())

    def toggle_favourite(self, target: str) -> bool:
        """Star or unstar `target`; return whether it is now a favourite."""
        if target in self.favourites:
            self.favourites.discard(target)
            return False
        self.favourites.add(target)
        return True

    def used(self, target: str) -> None:
        """Count one assumption of `target`."""
        self.usage[target] = self.usage.get(target, 0) + 1
