"""User settings (`config.toml` beside the catalogue): preferences that are not catalogue data.

```toml
[console]
browser = ["firefox", "--new-tab", "{url}"]   # argv template; {url} is one argument
container = "granted"                         # or "open-url-in-container"; omit for none
logout_first = true

[tui]
shell_server = true    # `s` opens the shell with a credential server (renewed; no keys)
```

The browser entry is a command rolecall runs, so the file is read only when no one else can
change it or the directories above it (`rolecall.core.locations.check_trusted`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from rolecall.core.errors import UsageError
from rolecall.core.locations import check_trusted
from rolecall.core.text import inert, show

# Named tuples, not dataclasses: they are read on the TUI's start, where a frozen dataclass
# costs a millisecond to define.


class ConsoleSettings(NamedTuple):
    """How console links are opened."""

    browser: tuple[str, ...] = ()
    """Browser argv template; empty means the system default (honours $BROWSER)."""
    container: str | None = None
    """Firefox container hand-off form, or None."""
    logout_first: bool = False
    """Always sign out of other accounts first."""


class TuiSettings(NamedTuple):
    """How the terminal UI behaves."""

    shell_server: bool = False
    """`s` gives the shell a credential server (as `rolecall shell --server`) instead of keys."""


class Settings(NamedTuple):
    """Everything in config.toml."""

    console: ConsoleSettings = ConsoleSettings()
    keymap: Mapping[str, str] = MappingProxyType({})
    """TUI key remaps: binding id → keys, e.g. `"app.shell" = "ctrl+s"`."""
    tui: TuiSettings = TuiSettings()


def load_settings(path: Path) -> Settings:
    """Read `path`; a missing file means defaults, a bad one a clear `UsageError`.

    Raises `UntrustedPath` when another user could change the file or a directory above it.
    """
    check_trusted(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read the settings {path}: {e}.") from None
    import tomllib  # deferred: no config.toml costs no TOML parser (the TUI's start)

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"cannot read the settings {path}: {e}.") from None
    unknown = set(document) - {"console", "keymap", "tui"}
    console = document.get("console", {})
    if unknown or not isinstance(console, dict):
        raise UsageError(
            f"{path}: unknown section {show(sorted(unknown)[0]) if unknown else 'console'}.",
            hint="config.toml has [console], [keymap] and [tui] tables",
        )
    extra = set(console) - {"browser", "container", "logout_first"}
    if extra:
        raise UsageError(
            f"{path}: unknown key console.{sorted(extra)[0]}.",
            hint="allowed: browser, container, logout_first",
        )
    browser = console.get("browser", [])
    if not isinstance(browser, list) or not all(isinstance(p, str) and p for p in browser):
        raise UsageError(
            f"{path}: console.browser must be a list of strings.",
            hint='e.g. browser = ["firefox", "--new-tab", "{url}"]',
        )
    container = console.get("container")
    from rolecall.core.console.url import CONTAINER_FORMS  # deferred: not needed without a file

    if container is not None and container not in CONTAINER_FORMS:
        raise UsageError(f"{path}: console.container must be one of {', '.join(CONTAINER_FORMS)}.")
    logout_first = console.get("logout_first", False)
    if not isinstance(logout_first, bool):
        raise UsageError(f"{path}: console.logout_first must be true or false.")
    keymap = document.get("keymap", {})
    if not isinstance(keymap, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in keymap.items()
    ):
        raise UsageError(
            f"{path}: [keymap] maps binding ids to keys.",
            hint='e.g. "app.shell" = "ctrl+s" (rolecall shows the ids under ?)',
        )
    return Settings(
        ConsoleSettings(tuple(browser), container, logout_first), keymap, _tui(path, document)
    )


def _tui(path: Path, document: Mapping[str, object]) -> TuiSettings:
    tui = document.get("tui", {})
    if not isinstance(tui, dict):
        raise UsageError(f"{path}: tui must be a table.", hint="[tui]\nshell_server = true")
    extra = set(tui) - {"shell_server"}
    if extra:
        raise UsageError(
            f"{path}: unknown key tui.{inert(sorted(extra)[0])}.", hint="allowed: shell_server"
        )
    shell_server = tui.get("shell_server", False)
    if not isinstance(shell_server, bool):
        raise UsageError(f"{path}: tui.shell_server must be true or false.")
    return TuiSettings(shell_server)
