"""The names file: a catalogue's targets and template names as plain text, for completion.

Written beside the parsed-catalogue cache whenever that cache is written, so that a shell's
completion function can read it without starting Python. One item a line: the number K of
template names, the K `[session_names]` template names, then every target (`ACCOUNT/ROLE`)
sorted by code point, so that bash finds the targets under a prefix by binary search instead
of comparing 50,000.

Where it lives is derivable by a shell from the same environment rolecall reads:
`<cache dir>/catalogues/<escaped path>.names`, where the escaped path is the catalogue's
absolute path with `%` written `%25` and `/` written `%2F` (no hashing, which a shell cannot do
without a process). It is written under the resolved path and, when different, under the path
as it was given (a dotfile manager's symlink), which is what the shell sees. A shell treats the
file as stale when the catalogue is newer (`[[ catalogue -nt names ]]`) and asks
`rolecall __complete names` instead, which rewrites it.

Imports only the standard library and `private_files`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rolecall.core.errors import RolecallError
from rolecall.core.private_files import write_private

if TYPE_CHECKING:
    from rolecall.core.catalogue.model import Catalogue

SUFFIX = ".names"
"""The names file's suffix, after the escaped catalogue path."""


def escape(path: str) -> str:
    """`/home/me/a%b.toml` as `%2Fhome%2Fme%2Fa%25b.toml`: one file name, reversible."""
    return path.replace("%", "%25").replace("/", "%2F")


def names_file(cache_dir: Path, catalogue: str) -> Path:
    """Where the names of the catalogue at absolute path `catalogue` are kept."""
    return cache_dir / "catalogues" / (escape(catalogue) + SUFFIX)


def render(catalogue: Catalogue) -> bytes:
    """The file's text: the number of template names, the template names, then the targets
    sorted by code point (the byte order a shell's binary search compares in)."""
    templates = [name for name in catalogue.session_names if "/" not in name]
    lines = [str(len(templates)), *templates, *sorted(role.target for role in catalogue)]
    return "".join(line + "\n" for line in lines).encode()


def write(cache_dir: Path, paths: Iterable[str], catalogue: Catalogue) -> None:
    """Write the names of `catalogue` under each spelling in `paths` (absolute paths).

    Best effort, like the cache itself: a name too long for the file system or an unwritable
    directory only means the shell asks rolecall instead.
    """
    data = render(catalogue)
    for path in dict.fromkeys(os.path.abspath(p) for p in paths):
        try:
            write_private(names_file(cache_dir, path), data)
        except (OSError, ValueError, RolecallError):
            continue
