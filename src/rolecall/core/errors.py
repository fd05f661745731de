"""The error hierarchy: every expected failure is a `RolecallError` with a human sentence."""

from __future__ import annotations


class RolecallError(Exception):
    """An expected failure, told as one human sentence plus an optional hint.

    `exit_code` follows the CLI contract: 1 for AWS or runtime failures, 2 for bad input.
    """

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        """One sentence saying what went wrong."""
        self.hint = hint
        """What the user can do about it, or None."""

    def __str__(self) -> str:
        return self.message


class UsageError(RolecallError):
    """Bad input on the command line (exit code 2)."""

    exit_code = 2


class TargetNotFound(UsageError):
    """A target matches no role of the catalogue."""


class AmbiguousTarget(UsageError):
    """A target query matches more than one role."""

    def __init__(self, query: str, candidates: list[str]) -> None:
        from rolecall.core.text import show  # deferred: `re` is not on the cache-hit path

        super().__init__(
            f"{show(query)} matches {len(candidates)} roles.",
            hint="add a word to the query, or name the role as ACCOUNT/ROLE",
        )
        self.candidates = candidates
        """Every matching target, in catalogue order."""


class TemplateError(UsageError):
    """A session-name or source-identity template cannot be rendered into a valid value."""


class FreeVariableMissing(TemplateError):
    """A template uses free variables that were not given a value."""

    def __init__(self, names: list[str], where: str | None = None) -> None:
        flags = " ".join(f"--var {n}=..." for n in names)
        message = (
            f"{where}, which needs {' '.join(f'--var {n}=…' for n in names)}."
            if where
            else f"the session-name template needs a value for {', '.join(names)}."
        )
        super().__init__(message, hint=f"pass {flags}")
        self.names = names
        """The missing variable names, in template order."""
        self.where = where
        """Which earlier hop of a chain needs them, when it is not the target itself."""


class CommandFailed(RolecallError):
    """A command rolecall was to run could not be started (exit 127 or 126, as shells do)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    @classmethod
    def starting(cls, program: str, error: OSError) -> CommandFailed:
        """The failure for `error` raised when starting `program`."""
        from rolecall.core.text import inert

        if isinstance(error, FileNotFoundError):
            return cls(f"command not found: {inert(program)}.", 127)
        if isinstance(error, PermissionError):
            return cls(f"cannot run {inert(program)}: permission denied.", 126)
        return cls(f"cannot run {inert(program)}: {error.strerror}.", 126)
