"""A regular (non-editable) install of rolecall for the benchmarks, made once per run.

    installed = install(work)        # work/installed/bin/rolecall

`pip install /work/main` builds a wheel from the source tree (an isolated build, as a user's
`pip install` or `pipx install` does) into a temporary venv made without pip. The venv reuses
the dependencies already installed in `.venv` through a one-line `.pth` file naming
`.venv`'s site-packages: a path line adds the directory to `sys.path` without running the
`.pth` files inside it, so `.venv`'s editable `rolecall` (its own `.pth` pointing at `src/`)
is not seen, and the venv's own site-packages (with the installed rolecall) comes first. So
the install takes seconds and downloads at most the build backend (pip's cache keeps it).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from common import PYTHON, ROOT, BenchError, child_env

PURELIB = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
"""Prints an interpreter's site-packages."""


def _printed(python: Path, code: str) -> str:
    """What `python -c code` prints (stripped)."""
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def install(work: Path) -> Path:
    """Install rolecall (non-editable) into `work/installed`; return its `rolecall` script."""
    venv = work / "installed"
    subprocess.run([str(PYTHON), "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = _printed(python, PURELIB)
    deps = _printed(PYTHON, PURELIB)
    (Path(site) / "_rolecall_bench_deps.pth").write_text(deps + "\n")
    done = subprocess.run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        env=child_env(),
        check=False,
    )
    script = venv / "bin" / "rolecall"
    if done.returncode != 0 or not script.exists():
        raise BenchError(f"pip install {ROOT} failed: {done.stderr.strip()[-500:]}")
    where = _printed(python, "import rolecall; print(rolecall.__file__)")
    if not where.startswith(str(venv)):
        raise BenchError(f"the installed venv imports rolecall from {where}, not its own copy")
    return script
