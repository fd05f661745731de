"""Serving one child: a credential server, its token file, the config copies, the child's
environment, and removing all of them when the child is done.

`rolecall exec --server` / `shell --server` and the TUI's shell (with `[tui] shell_server`)
share it; the caller owns the session source (a `SessionKeeper`) and runs the child.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from rolecall.core.credentials import Session
from rolecall.core.lifecycle.server import CredentialServer
from rolecall.core.lifecycle.shadow_config import shadow_files
from rolecall.core.private_files import ensure_private_dir, write_private
from rolecall.core.shell_env import server_environment


@dataclass(frozen=True, slots=True)
class ServedChild:
    """What a child started under `serve_child` gets."""

    env: dict[str, str]
    """The child's environment: the server's URL and token file, no keys, the config copies."""
    server: CredentialServer
    """The running server (its counters are read by tests)."""
    token_file: Path
    """The 0600 file holding the token (removed on exit)."""


@contextlib.contextmanager
def serve_child(
    provider: Callable[[], Session | None],
    reason: Callable[[], str | None],
    base: Mapping[str, str],
    session: Session,
    folder: Path,
) -> Iterator[ServedChild]:
    """Serve `provider()` on loopback while the `with` body runs the child.

    The token file and the config copies are written into `folder` (0700) and, like the
    server, gone when the body is left, whatever way it is left.
    """
    folder = ensure_private_dir(folder)
    stem = secrets.token_hex(8)
    token_file = folder / f"{stem}.token"
    server = CredentialServer(provider, reason)
    try:
        write_private(token_file, server.token.encode())
        server.start()
        env = server_environment(base, session, server.url, server.token, str(token_file))
        env.update(shadow_files(base, folder, stem))
        yield ServedChild(env, server, token_file)
    finally:
        server.close()
        for leftover in folder.glob(f"{stem}.*"):
            leftover.unlink(missing_ok=True)
