"""Noticing that the session cache changed, cheaply enough to ask every second.

Every change to the cache (a session written, renewed or forgotten, by any process) replaces
or removes a file, which changes the directory's modification time; one `stat` tells. A
timestamp cannot tell two changes apart that land within its resolution, so while the last
change is that recent the directory counts as changed again at the next look.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

RECENT_NS = 2_000_000_000
"""A change this recent (in ns) may hide a second one in the same timestamp: look again."""


class CacheWatch:
    """Whether `directory` changed since the last call of `changed`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        """The directory watched (it may not exist yet)."""
        self._stamp: tuple[int, int] | None = None
        self._recent = True  # the first look always reads

    def changed(self) -> bool:
        """True the first time, then whenever the directory may have changed since."""
        try:
            info = os.stat(self.directory)
        except OSError:
            stamp = None
        else:
            stamp = (info.st_mtime_ns, info.st_ino)
        if stamp == self._stamp and not self._recent:
            return False
        self._stamp = stamp
        self._recent = stamp is not None and time.time_ns() - stamp[0] < RECENT_NS
        return True
