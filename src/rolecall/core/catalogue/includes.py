"""A catalogue and the files it includes: `include = ["team/accounts.toml", "~/shared.toml"]`.

An entry is a path relative to the including file's real directory (so a catalogue that is a
symlink into a dotfiles checkout includes the files beside its target), `~` expanded. Included
files include in turn, up to `MAX_DEPTH` files below the catalogue; a cycle is refused naming
the chain, and a file reached along two paths (a diamond) is read once.

What joins the catalogue: every file's accounts (the including file's first, then each
included file's, in include order) and named templates. Each file's `[defaults]` apply to its
own accounts only, and each file says `version = 1`. Every problem is reported at its own file
and line; an account name or id defined twice, in one file or in two, is refused naming both
places. A template name defined in a file and in a file it includes (directly or not): the
including file's wins, so a personal catalogue can restyle a team's `@ticket`. The same name
with different texts in two files where neither includes the other is refused, naming both.
`@NAME` references resolve against the templates of the whole catalogue.

Trust: every included file is held to the rule of a named catalogue (`locations.check_trusted`
without ancestors): refused when another user owns it or group or other may write it.

Only imported on a cache miss or by `rolecall check`. The parsed cache stores the identity of
every included file (`Catalogue.includes`) and checks it with one `stat` per file.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from rolecall.core.catalogue.lines import join_key
from rolecall.core.catalogue.loader import (
    FileLoader,
    Loaded,
    link,
    read_document,
    unique_accounts,
)
from rolecall.core.catalogue.model import MAX_FILE_BYTES, Catalogue, FileIdentity
from rolecall.core.catalogue.problems import CatalogueError, Problem
from rolecall.core.catalogue.rules import kind_of
from rolecall.core.text import has_unsafe, inert, show

MAX_DEPTH = 8
"""Most files below the catalogue in one include chain (the catalogue itself is depth 0)."""

Templates = dict[str, tuple[str, FileLoader]]
"""Named templates of a file and what it includes: name → (text, the file that defines it)."""


class _File:
    """One file of the catalogue, parsed but not yet validated."""

    __slots__ = ("base", "chain", "children", "loader", "root", "templates")

    def __init__(
        self, loader: FileLoader, document: dict[str, Any], base: str, chain: tuple[str, ...]
    ) -> None:
        self.loader = loader
        self.root = loader.root(document)
        self.base = base
        """The real directory that relative includes start from."""
        self.chain = chain
        """Display paths from the catalogue down to this file."""
        self.children: list[_File] = []
        self.templates = loader.session_names(self.root.get("session_names", {}))

    @property
    def depth(self) -> int:
        return len(self.chain) - 1


class _Walk:
    """Reads a catalogue's include tree, collecting problems in file order."""

    def __init__(self) -> None:
        self.files: list[_File] = []
        """Every file read, depth first, the catalogue first."""
        self.failed: dict[int, list[Problem]] = {}
        """Problems of included files that are not TOML, keyed by their place in file order."""
        self.seen: set[tuple[int, int]] = set()
        """(device, inode) of every file read."""
        self.read: list[FileIdentity] = []

    def start(self, data: bytes, file: str) -> _File:
        document, text = read_document(data, file)
        real = os.path.realpath(file)
        root = _File(FileLoader(file, text), document, os.path.dirname(real), (file,))
        self.files.append(root)
        try:
            info = os.stat(real)
            identity = (info.st_dev, info.st_ino)
            self.seen.add(identity)
        except OSError:
            identity = (-1, -1)  # bytes with no file behind them: nothing can include them
        self.include(root, text, (identity,))
        return root

    def include(self, parent: _File, text: str, ancestry: tuple[tuple[int, int], ...]) -> None:
        """Read every file `parent` includes, and theirs."""
        loader = parent.loader
        for index, entry in self.entries(parent, text):
            key = f"include[{index}]"
            spelled = os.path.expanduser(entry)
            path = os.path.join(parent.base, spelled)
            shown = (
                os.path.normpath(spelled)
                if os.path.isabs(spelled)
                else os.path.normpath(os.path.join(os.path.dirname(parent.chain[-1]), spelled))
            )
            chain = (*parent.chain, shown)
            if len(chain) - 1 > MAX_DEPTH:
                loader.problem(
                    key,
                    f"includes nest more than {MAX_DEPTH} files deep: {' → '.join(chain)}.",
                    "include the deepest files from a file nearer the catalogue",
                )
                continue
            opened = self.open(loader, key, path, shown)
            if opened is None:
                continue
            fd, info = opened
            identity = (info.st_dev, info.st_ino)
            if identity in ancestry:
                os.close(fd)
                cycle = chain[ancestry.index(identity) :]
                loader.problem(key, f"include cycle: {' → '.join(cycle)}.")
                continue
            if identity in self.seen:
                os.close(fd)  # a diamond: the file is in the catalogue already
                continue
            self.seen.add(identity)
            self.read.append((path, *identity, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
            with os.fdopen(fd, "rb") as stream:
                try:
                    data = stream.read(MAX_FILE_BYTES + 1)
                except OSError as e:
                    loader.problem(key, f"cannot read {inert(shown)}: {e.strerror}.")
                    continue
            try:
                child_document, child_text = read_document(data, shown)
            except CatalogueError as e:
                self.failed.setdefault(len(self.files), []).extend(e.problems)
                continue
            real = os.path.realpath(path)
            child = _File(
                FileLoader(shown, child_text), child_document, os.path.dirname(real), chain
            )
            parent.children.append(child)
            self.files.append(child)
            self.include(child, child_text, (*ancestry, identity))

    def entries(self, parent: _File, text: str) -> list[tuple[int, str]]:
        """The valid entries of `parent`'s `include`, each given the line it is written on."""
        loader = parent.loader
        if "include" not in parent.root:
            return []
        raw = parent.root["include"]
        if not isinstance(raw, list):
            loader.problem("include", f"must be a list of file paths, not {kind_of(raw)}.")
            return []
        lines = text.split("\n")
        line = loader.line_of("include")
        out: list[tuple[int, str]] = []
        for index, entry in enumerate(raw):
            key = f"include[{index}]"
            if isinstance(entry, str):  # an array over several lines: find the entry's own
                quoted = (f'"{entry}"', f"'{entry}'")
                for number in range(line, min(len(lines), line + 1000) + 1):
                    if any(q in lines[number - 1] for q in quoted):
                        loader.lines[key] = line = number
                        break
            if not isinstance(entry, str):
                loader.problem(key, f"must be a file path (a string), not {kind_of(entry)}.")
            elif not entry or has_unsafe(entry) or "\0" in entry:
                loader.problem(key, f"{show(entry)} is not a file path.")
            else:
                out.append((index, entry))
        return out

    def open(
        self, loader: FileLoader, key: str, path: str, shown: str
    ) -> tuple[int, os.stat_result] | None:
        """The included file, opened and checked; None (a problem reported) when it cannot be."""
        from rolecall.core.locations import UntrustedPath, check_trusted

        try:
            check_trusted(path, ancestors=False)
        except UntrustedPath as e:
            loader.problem(key, e.message, e.hint)
            return None
        try:
            # Non-blocking: a FIFO planted as an included file must not hang the load.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            loader.problem(key, f"there is no file {inert(shown)}.", "check the path in include")
            return None
        except OSError as e:
            loader.problem(key, f"cannot read {inert(shown)}: {e.strerror}.")
            return None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            loader.problem(key, f"{inert(shown)} is not a regular file.")
            return None
        return fd, info


def parse_catalogue(data: bytes, file: str) -> Catalogue:
    """Validate catalogue bytes and every file they include; raise `CatalogueError` listing
    every problem, each at its own file and line."""
    walk = _Walk()
    root = walk.start(data, file)
    templates = _templates(root)
    session_names = {name: text for name, (text, _) in templates.items()}
    loaded: list[Loaded] = []
    for each in walk.files:
        loaded += each.loader.accounts(each.root, session_names)
    accounts, pending = unique_accounts(loaded)
    linked = link(pending)
    problems: list[Problem] = []
    for place, each in enumerate(walk.files):
        problems += walk.failed.get(place, [])
        problems += sorted(each.loader.problems, key=lambda p: (p.line, p.key))
    problems += walk.failed.get(len(walk.files), [])
    if problems:
        raise CatalogueError(problems)
    return Catalogue.build(file, accounts, session_names, linked, tuple(walk.read))


def _templates(node: _File) -> Templates:
    """The templates of `node` and of what it includes: its own win; two included files that
    define one name differently are refused (naming both)."""
    below: Templates = {}
    for child in node.children:
        for name, (text, where) in _templates(child).items():
            first = below.get(name)
            if first is None:
                below[name] = (text, where)
            elif first[0] != text and first[1] is not where:
                key = join_key("session_names", name)
                where.problem(
                    key,
                    f"template {show(name)} is also defined, differently, at "
                    f"{first[1].where(key)}.",
                    "rename one, or define it once in a file that includes both",
                )
    merged: Templates = {name: (text, node.loader) for name, text in node.templates.items()}
    for name, value in below.items():
        merged.setdefault(name, value)
    return merged
