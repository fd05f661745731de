"""The `rolecall` executable: try the cache-hit fast path, else the full command line.

This module imports nothing it does not need: `credential-process` and `env` hits are
answered from `rolecall.core.sts.hit_memo` without loading argparse, the catalogue or the STS
engine; a warm `list` from the parsed-catalogue cache by `rolecall.core.catalogue.listing`
(no argparse, no model); `prompt` (from the environment alone) and the completion scripts'
hidden `__complete names` from `rolecall.core.shell`; `rolecall` alone (the TUI) from
`rolecall.ui.launch` (no argparse, no `rolecall.cli`), and so is `rolecall --catalogue PATH`;
everything else goes to `rolecall.cli`.
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
    named = tui_catalogue(argv)
    code = None
    if "credential-process" in argv[:3] or "env" in argv[:3]:  # `--catalogue P` may come first
        from rolecall.core.sts import hit_memo

        try:
            if hit_memo.serve(argv, os.environ, sys.stdout):
                code = 0
        except Exception:  # the full command answers instead, and reports real problems
            code = None
    elif "list" in argv[:5]:  # `--catalogue P` (or `--catalogue=P`) may come first
        from rolecall.core.catalogue import listing

        try:
            code = listing.serve(argv, os.environ, sys.stdout, sys.stderr)
        except Exception:  # the full command answers instead, and reports real problems
            code = None
    if argv[:1] == ["prompt"]:  # shell integration: every prompt and every TAB
        from rolecall.core.shell import prompt

        try:
            if prompt.serve(argv, os.environ, sys.stdout):
                code = 0
        except Exception:  # the full command answers instead
            code = None
    elif argv[:1] == ["__complete"]:
        from rolecall.core.shell import complete

        try:
            code = complete.serve(argv[1:], os.environ, sys.stdout)
        except Exception:  # TAB offers nothing rather than a traceback
            code = 1
    elif code is None and (not argv or named):  # the TUI, without the command line's parser
        from rolecall.ui import launch

        app = launch.prepared_app(os.environ, named)
        if app is not None:
            code = launch.run(app)
    if code is None:
        from rolecall.cli import main

        code = main(argv)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)


def tui_catalogue(argv: list[str]) -> str | None:
    """The catalogue named by `rolecall --catalogue PATH` (or `--catalogue=PATH`), the TUI
    on a catalogue of its own; None for any other command line."""
    if len(argv) == 2 and argv[0] == "--catalogue" and argv[1]:
        return argv[1]
    if len(argv) == 1 and argv[0].startswith("--catalogue=") and argv[0] != "--catalogue=":
        return argv[0].removeprefix("--catalogue=")
    return None
