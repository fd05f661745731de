"""The command line: argparse front door for every rolecall command.

One module per command group (`catalogue`, `assume`, `each`, `console`, `sessions`,
`shell_integration`, `tui`, `importing`), the shared `context`, `options` and `output`, and
`parser`, which builds only the named command's parser. Imports are deferred so that the fast
paths (`list`, `check`, cache hits) never load boto3, Textual or Rich; the repeated cache hits
of `env` and `credential-process` do not even get here (see `rolecall.entry` and
`rolecall.core.sts.hit_memo`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from rolecall.cli.context import Context
from rolecall.cli.parser import COMMANDS, build_parser
from rolecall.core.errors import AmbiguousTarget, RolecallError
from rolecall.core.text import inert

__all__ = ["COMMANDS", "Context", "build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run rolecall; return the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Build only the named command's parser: building all of them costs milliseconds that
    # `credential_process` pays on every botocore refresh.
    # `rolecall` alone (the TUI) needs no command's parser at all.
    first = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(first if first in COMMANDS else "" if not argv else None)
    # Everything after `--` belongs to the command of `exec`, options included.
    rest: list[str] | None = None
    if "--" in argv:
        cut = argv.index("--")
        argv, rest = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    if rest is not None:
        if args.subcommand not in ("exec", "each"):
            parser.error("`--` is only for `rolecall exec TARGET -- CMD ...` and `rolecall each`")
        if args.subcommand == "exec":
            # Words between the target and `--` continue the query: `exec prod admin -- CMD`.
            args.target = " ".join([args.target, *args.argv])
        args.argv = rest
    if args.subcommand is None:
        from rolecall.cli.tui import cmd_tui

        args.handler = cmd_tui
    ctx = Context(args, dict(os.environ), argv)
    try:
        code: int = args.handler(ctx, sys.stdout)
        return code
    except AmbiguousTarget as e:
        _report(e)
        for candidate in e.candidates:
            print(f"  {inert(candidate)}", file=sys.stderr)
        return e.exit_code
    except RolecallError as e:
        _report(e)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `rolecall list | head`: the reader went away; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:  # a bug: say so in one line; ROLECALL_DEBUG=1 shows the traceback
        if os.environ.get("ROLECALL_DEBUG"):
            raise
        print(
            f"rolecall: unexpected internal error ({type(e).__name__}); this is a bug.",
            file=sys.stderr,
        )
        print("  hint: run again with ROLECALL_DEBUG=1 and report the traceback", file=sys.stderr)
        return 1


def _report(error: RolecallError) -> None:
    print(f"rolecall: {inert(error.message)}", file=sys.stderr)
    if error.hint:
        print(f"  hint: {inert(error.hint)}", file=sys.stderr)
