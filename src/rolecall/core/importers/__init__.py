"""Catalogue import: turn `~/.aws/config`, AWS Organizations or IAM Identity Center into a
catalogue, or merge them into an existing one without clobbering it.

Each source module produces a `Draft` (accounts and roles, plus what it had to leave out and
why); `merge.build` turns a draft into catalogue TOML, merging into an existing catalogue when
given one, and proves the result with the catalogue's own validator. Nothing here prints:
callers get values and `RolecallError`s.
"""

from __future__ import annotations

from rolecall.core.importers.draft import Draft, DraftAccount, DraftRole, Skipped
from rolecall.core.importers.merge import ImportReport, ImportResult, build
from rolecall.core.importers.rendering import render

__all__ = [
    "Draft",
    "DraftAccount",
    "DraftRole",
    "ImportReport",
    "ImportResult",
    "Skipped",
    "build",
    "render",
]
