"""`rolecall __complete names`: the catalogue's targets and templates for a completion script.

The completion scripts read the names file (`rolecall.core.catalogue.names`) themselves; they
ask this only when the file is missing or older than the catalogue. A fast path:
`rolecall.entry` calls `serve` without argparse, boto3 or Textual; it imports `locations`,
`names` and, when the file has to be rewritten, the catalogue `store` (a cache hit, or a parse).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TextIO

from rolecall.core.catalogue import names
from rolecall.core.errors import RolecallError
from rolecall.core.locations import Locations, catalogue_path
from rolecall.core.private_files import read_private


def serve(argv: Sequence[str], env: Mapping[str, str], out: TextIO) -> int:
    """Answer `__complete names [--catalogue PATH]`; return the exit code.

    Prints the names file (rewritten first when missing or stale). With a catalogue that does
    not load (an edit in progress) it prints the last names it had, if any: completion is
    better a little out of date than gone.
    """
    ok, explicit = _catalogue_option(argv)
    if not ok:
        return 2
    locations = Locations.from_env(env)
    try:
        path = catalogue_path(explicit, env, locations)
    except RolecallError:
        return 1
    spelled = os.path.abspath(path)
    file = names.names_file(locations.cache_dir, spelled)
    if not _fresh(file, path):
        try:
            from rolecall.core.catalogue import store

            catalogue = store.load(path, locations.cache_dir)
        except RolecallError:
            catalogue = None
        if catalogue is not None:
            # A cache hit writes no names file: write it now, for the next TAB.
            names.write(locations.cache_dir, (catalogue.path, spelled), catalogue)
            out.write(names.render(catalogue).decode())
            return 0
    data = read_private(file)
    if data is None:
        return 1
    out.write(data.decode("utf-8", "replace"))
    return 0


def _catalogue_option(argv: Sequence[str]) -> tuple[bool, str | None]:
    """(whether `argv` is understood, its `--catalogue` value or None)."""
    rest = list(argv[1:])
    if argv[:1] != ["names"] or len(rest) > 2:
        return False, None
    if not rest:
        return True, None
    if len(rest) == 2 and rest[0] == "--catalogue":
        return True, rest[1] or None
    if len(rest) == 1 and rest[0].startswith("--catalogue="):
        return True, rest[0].partition("=")[2] or None
    return False, None


def _fresh(file: os.PathLike[str], catalogue: os.PathLike[str]) -> bool:
    """Whether the names file is at least as new as the catalogue (what the shells check)."""
    try:
        return os.stat(file).st_mtime_ns >= os.stat(catalogue).st_mtime_ns
    except OSError:
        return False
