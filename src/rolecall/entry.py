"""The `rolecall` executable: try the cache-hit fast path, else the full command line.

This module imports nothing it does not need: `credential-process` and `env` hits are
answered from `rolecall.core.sts.hit_memo` without loading argparse, the catalogue or the STS
engine; everything else goes to `rolecall.cli`.
"""

from __future__ import annotations

import os
import sys


def run() -> None:
    """Run rolecall with `sys.argv` and leave with its exit code.

    It leaves with `os._exit` once the output is flushed: tearing down the interpreter's
    module graph costs more than a cached `credential-process` answer itself, and nothing is
    left to clean up (files are written atomically and closed by then).
    """
    argv = sys.argv[1:]
    code = None
    if argv[:1] in (["credential-process"], ["env"]):
        from rolecall.core.sts import hit_memo

        try:
            if hit_memo.serve(argv, os.environ, sys.stdout):
                code = 0
        except Exception:  # the full command answers instead, and reports real problems
            code = None
    if code is None:
        from rolecall.cli import main

        code = main(argv)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)
