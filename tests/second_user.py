"""Playing a second local user: another uid on the same machine, for the security tests.

Tests run a command as uid/gid 1002 with `setpriv` (util-linux) when the suite runs as root,
and are skipped otherwise. `shared_dir` is a sticky world-writable directory (like /tmp) that
both users can reach; pytest's own `tmp_path` is private to the first user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

UID = GID = 1002
"""The second user's ids (no passwd entry is needed)."""

AVAILABLE = os.geteuid() == 0 and shutil.which("setpriv") is not None
"""Whether this machine lets the suite play a second user."""

needs_second_user = pytest.mark.skipif(
    not AVAILABLE, reason="playing a second local user needs root and setpriv"
)
"""Mark a test that plays the second user."""


def as_second_user(argv: Sequence[str]) -> list[str]:
    """`argv` run as the second user, with no supplementary groups."""
    return [
        "setpriv",
        f"--reuid={UID}",
        f"--regid={GID}",
        "--clear-groups",
        "--inh-caps=-all",
        "--",
        *argv,
    ]


def run_as_second_user(
    argv: Sequence[str], env: Mapping[str, str] | None = None, **options: Any
) -> subprocess.CompletedProcess[str]:
    """Run `argv` as the second user and wait for it (text output captured)."""
    options.setdefault("timeout", 60)
    return subprocess.run(
        as_second_user(argv),
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        check=False,
        **options,
    )


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A sticky world-writable directory both users can use; removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="rolecall-shared-"))
    path.chmod(0o1777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
