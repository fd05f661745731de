"""What is wrong with a catalogue: one `Problem` per finding (file, key path, line) and the
`CatalogueError` that carries every problem found.

A leaf (the model re-exports both): it imports only `rolecall.core.errors` and `text`.
"""

from __future__ import annotations

from typing import NamedTuple

from rolecall.core.errors import RolecallError
from rolecall.core.text import inert


class Problem(NamedTuple):
    """One thing wrong with a catalogue file."""

    file: str
    key: str
    """Dotted key path, e.g. `accounts[3].roles[1].duration` (empty for the whole file)."""
    line: int
    column: int | None
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")
        key = f" {self.key}:" if self.key else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return inert(f"{where}:{key} {self.message}{hint}")


class CatalogueError(RolecallError):
    """A catalogue cannot be used; `problems` lists every problem found, in file order."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        assert problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(str(first) + more, hint="run `rolecall check` to see every problem")
        self.problems = tuple(problems)
        """Every problem found, in file order."""
        self.file = first.file
        """The file of the first problem: the catalogue, or a file it includes."""
        self.key = first.key
        """Dotted key path of the first problem."""
        self.line = first.line
        """Line of the first problem (1-based)."""
        self.column = first.column
        """Column of the first problem, when the TOML parser gives one."""
