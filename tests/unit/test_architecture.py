"""The core stays headless: importing any `rolecall.core` module loads no Textual or Rich."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import rolecall.core

CORE_MODULES = sorted(
    f"rolecall.core.{m.name}" for m in pkgutil.iter_modules(rolecall.core.__path__)
)


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_no_ui(module: str) -> None:
    probe = (
        f"import sys, {module}\n"
        "ui = ('textual', 'rich', 'rolecall.ui', 'rolecall.cli')\n"
        "print(','.join(m for m in ui if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""


def test_core_is_found() -> None:
    assert "rolecall.core.catalogue.model" in CORE_MODULES
