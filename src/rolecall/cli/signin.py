"""How the command line takes part in an IAM Identity Center sign-in: what it tells the user
(on stderr: stdout may be `credential_process` JSON or `eval`'d exports) and which browser it
opens (the `[console] browser` of config.toml, else BROWSER or the system default).

`ROLECALL_SSO_TIMEOUT` (seconds) shortens the 10-minute wait for the browser (tests use it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rolecall.core.errors import UsageError
from rolecall.core.text import inert

if TYPE_CHECKING:
    from rolecall.cli.context import Context
    from rolecall.core.lifecycle.sso_signin import SignInPrompt, SsoSignIn


def tell(prompt: SignInPrompt) -> None:
    """Say what to do now, on stderr."""
    where = f"IAM Identity Center ({prompt.source.label})"
    if prompt.flow == "device":
        print(
            f"rolecall: to sign in to {where}, open {inert(prompt.url)} "
            f"and enter the code {inert(prompt.user_code or '')}",
            file=sys.stderr,
        )
        if prompt.url_with_code:
            print(f"  or open: {inert(prompt.url_with_code)}", file=sys.stderr)
    else:
        print(f"rolecall: signing in to {where}: opening the browser.", file=sys.stderr)
        print(f"  if it does not open, visit: {inert(prompt.url)}", file=sys.stderr)
    sys.stderr.flush()


def sso_signin(
    ctx: Context,
    *,
    use_device_code: bool = False,
    boto_session: Callable[[str | None], Any] | None = None,
) -> SsoSignIn:
    """The sign-in helper for this command: it tells the user on stderr and opens the
    configured browser."""
    from rolecall.core.lifecycle.sso_signin import SIGN_IN_TIMEOUT, SsoSignIn

    timeout = SIGN_IN_TIMEOUT
    if "ROLECALL_SSO_TIMEOUT" in ctx.env:
        try:
            timeout = float(ctx.env["ROLECALL_SSO_TIMEOUT"])
        except ValueError:
            raise UsageError("ROLECALL_SSO_TIMEOUT must be a number of seconds.") from None
        if not 0 < timeout <= 3600:
            raise UsageError("ROLECALL_SSO_TIMEOUT must be between 0 and 3600 seconds.")

    def open_browser(url: str, template: Sequence[str] | None, env: Mapping[str, str]) -> None:
        # config.toml is read only when a browser is needed: a cache hit never pays for it.
        from rolecall.core.console.browser import open_in_browser
        from rolecall.core.settings import load_settings

        configured = load_settings(ctx.locations.config_dir / "config.toml").console.browser
        open_in_browser(url, configured or template, env)

    return SsoSignIn(
        ctx.env,
        ctx.locations.cache_dir / "sso",
        notify=tell,
        use_device_code=use_device_code,
        timeout=timeout,
        boto_session=boto_session,
        open_browser=open_browser,
    )
