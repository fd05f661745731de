"""The terminal UI and the demo: `rolecall` with no command, and `rolecall demo`."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from rolecall.cli.context import Context
from rolecall.cli.options import Commands, Wanted
from rolecall.core.errors import RolecallError, UsageError


def register(commands: Commands, wanted: Wanted) -> None:
    """Add `demo` (when wanted) to the command parser (the TUI needs no parser of its own)."""
    if wanted("demo"):
        p = commands.add_parser(
            "demo",
            help="the TUI against a demo world on loopback (no AWS account needed)",
            description="Start a demo organisation (moto's STS and IAM on a free loopback "
            "port, a sign-in page, a catalogue) and open the TUI on it. Everything stops and "
            "its files are removed on exit.",
        )
        mode = p.add_mutually_exclusive_group()
        mode.add_argument(
            "--print-env",
            action="store_true",
            help="print exports that point this shell at the demo running in another "
            'terminal (eval "$(rolecall demo --print-env)"); exit 1 when none runs',
        )
        mode.add_argument(
            "--serve",
            action="store_true",
            help="run the demo world without the TUI until Ctrl-C, printing its exports",
        )
        p.set_defaults(handler=cmd_demo)


def cmd_tui(ctx: Context, out: TextIO) -> int:
    """`rolecall` with no command: the terminal UI."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the rolecall TUI needs a terminal.",
            hint="run a command instead, e.g. `rolecall list` (see rolecall --help)",
        )
    from rolecall.core.workspace import Workspace
    from rolecall.ui.app import make_app

    workspace = Workspace(ctx.catalogue(), ctx.locations, ctx.env, client_settings=ctx._sts())
    app = make_app(workspace)
    app.run()
    return app.return_code or 0


def cmd_demo(ctx: Context, out: TextIO) -> int:
    """`rolecall demo [--print-env | --serve]`: the TUI (or just the world) on loopback."""
    import signal

    from rolecall.demo import pointer as demo_pointer

    pointer = demo_pointer.location(ctx.env)
    if ctx.args.print_env:
        running = demo_pointer.running_exports(pointer)
        if running is None:
            raise RolecallError(
                "no demo is running.",
                hint="start one with `rolecall demo` (or `rolecall demo --serve`) in another "
                "terminal",
            )
        out.write(running)
        return 0
    if not ctx.args.serve and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the demo TUI needs a terminal.",
            hint="use `rolecall demo --serve` to run the demo world without the TUI",
        )
    from rolecall.demo.world import SIGN_IN_NOTE, DemoWorld, demo_mfa_code

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    world = DemoWorld()
    try:
        demo_pointer.publish(pointer, world.env_file, world.proof_key)
        os.environ.update(world.env())  # boto3 inside this process reads os.environ
        ctx.env.update(world.env())
        if ctx.args.serve:
            out.write(world.env_file.read_text())
            out.flush()
            print("# the demo world runs until Ctrl-C", file=sys.stderr)
            signal.pause()
            return 0
        from rolecall.core.catalogue.store import load
        from rolecall.core.locations import Locations
        from rolecall.core.workspace import Workspace
        from rolecall.ui.app import make_app

        locations = Locations.from_env(ctx.env)
        workspace = Workspace(load(world.catalogue, locations.cache_dir), locations, ctx.env)
        workspace.mfa_hint = lambda: (
            f"Demo world: the code now is {demo_mfa_code()} (any 6 digits work here)."
        )
        # No browser is needed: the demo's Identity Center approves device codes by itself.
        workspace.sso_device_code = True
        workspace.sign_in_note = SIGN_IN_NOTE
        app = make_app(workspace)
        app.title = "rolecall demo"
        app.hangup_hooks += [world.stop, lambda: demo_pointer.withdraw(pointer)]
        app.run()
        return app.return_code or 0
    except KeyboardInterrupt:
        return 0
    finally:
        world.stop()
        demo_pointer.withdraw(pointer)
