"""IAM Identity Center sign-in: refresh the cached token silently, else sign in once.

`SsoSignIn.ensure(source)` leaves a usable token in the AWS CLI's cache (`sso_token`):

1. a token with more than 15 minutes left is used as it is (no lock, no call);
2. otherwise, under a cross-process lock per sign-in (an `flock` in rolecall's private cache
   dir), the cache is read again (another process may have signed in meanwhile), then the
   refresh token is tried (CreateToken `refresh_token`): nobody is asked;
3. a token that still has a minute left is used; else the user signs in, if the caller gave
   a `notify` callback (without one, `SsoSignInRequired` says which `rolecall login` to run):
   - authorization code with PKCE through the browser by default: RegisterClient (public,
     `authorization_code` + `refresh_token`, redirect `http://127.0.0.1/oauth/callback`,
     issuer = start URL, scopes `sso:account:access`), the browser opened on `/authorize` of
     the sso-oidc endpoint botocore resolves (so `AWS_ENDPOINT_URL_SSO_OIDC` moves it), the
     code taken on a loopback redirect (`sso_callback`, state checked), S256 challenge;
   - the device code flow when asked to, under SSH, or with no display: the code and URL go
     to `notify`, CreateToken is polled (`interval`, +5 s on SlowDown) until approved.

Concurrent callers wait on the lock and find the new token: one sign-in, one browser tab.
A caller's `cancel` event stops a sign-in within a tenth of a second wherever it waits (the
lock, the browser, the polling), with `SsoCancelled`.
The client registration is cached (botocore's key) and reused until 15 minutes before it
expires. Failures are `SsoError`s told as sentences; no token or code ever reaches a message.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import secrets
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rolecall.core.errors import RolecallError
from rolecall.core.lifecycle import sso_errors as errors
from rolecall.core.lifecycle.sso_callback import CALLBACK_PATH, CallbackServer
from rolecall.core.lifecycle.sso_errors import SsoCancelled, SsoError, SsoSignInRequired
from rolecall.core.lifecycle.sso_token import (
    SsoSource,
    TokenCache,
    format_time,
    parse_time,
    token_dir,
)
from rolecall.version import __version__

__all__ = [
    "SignInPrompt",
    "SsoCancelled",
    "SsoError",
    "SsoSignIn",
    "SsoSignInRequired",
    "wants_device_code",
]

SIGN_IN_TIMEOUT = 600.0
"""Seconds the browser sign-in may take (the AWS CLI waits 10 minutes too)."""

FRESH_FOR = 15 * 60
"""A token with more seconds left than this is used as is (botocore refreshes below it)."""

USABLE_FOR = 60
"""A token with fewer seconds left than this counts as expired."""

SLOW_DOWN = 5
"""Seconds added to the device-flow polling interval on SlowDownException (RFC 8628)."""

AUTH_CODE_GRANTS = ("authorization_code", "refresh_token")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

CLIENT_SETTINGS: dict[str, Any] = {
    "connect_timeout": 5,
    "read_timeout": 15,
    "retries": {"mode": "standard", "total_max_attempts": 3},
}
"""sso-oidc client settings, pinned like the STS ones."""


@dataclass(frozen=True, slots=True)
class SignInPrompt:
    """What the user must do now: look at the browser, or enter a code at a URL."""

    source: SsoSource
    flow: str
    """`browser` (PKCE, the browser is being opened on `url`) or `device`."""
    url: str
    """The authorize URL (browser) or the verification URI (device)."""
    user_code: str | None = None
    """The code to enter (device flow)."""
    url_with_code: str | None = None
    """The verification URI with the code filled in (device flow)."""
    expires_in: float | None = None
    """Seconds left: until the code expires (device), or the wait for the browser ends."""


Notify = Callable[[SignInPrompt], None]
BrowserOpener = Callable[[str, Sequence[str] | None, Mapping[str, str]], None]


def wants_device_code(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether the browser flow cannot work here: under SSH, or on Linux with no display."""
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return True
    return platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _open_browser(url: str, template: Sequence[str] | None, env: Mapping[str, str]) -> None:
    from rolecall.core.console.browser import open_in_browser

    open_in_browser(url, template, env)


class SsoSignIn:
    """Keeps IAM Identity Center tokens usable: refresh first, one sign-in for everyone."""

    def __init__(
        self,
        env: Mapping[str, str],
        lock_dir: Path,
        *,
        notify: Notify | None = None,
        use_device_code: bool = False,
        browser: Sequence[str] = (),
        timeout: float = SIGN_IN_TIMEOUT,
        boto_session: Callable[[str | None], Any] | None = None,
        open_browser: BrowserOpener = _open_browser,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], object] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.env = env
        self.tokens = TokenCache(token_dir(env))
        """The AWS CLI's token cache, under the HOME of `env`."""
        self.lock_dir = lock_dir
        self.notify = notify
        """Tells the user what to do; None: this caller never signs in (it refreshes only)."""
        self.use_device_code = use_device_code or wants_device_code(env)
        self.browser = tuple(browser)
        self.timeout = timeout
        self.boto_session = boto_session
        """Makes the boto3 session for a profile (the assumer sets its own); None: a plain one."""
        self._open_browser = open_browser
        self.clock = clock
        self.cancel = cancel or threading.Event()
        """Set (from any thread) to stop a sign-in in progress: it raises `SsoCancelled`."""
        self.sleep = sleep or self.cancel.wait
        """Waits between device-code polls (by default on `cancel`, so it ends at once)."""
        self.sign_ins = 0
        """Interactive sign-ins made by this object (for tests)."""

    # -- the public steps ----------------------------------------------------------------------

    def ensure(self, source: SsoSource, *, force: bool = False) -> bool:
        """Leave a usable token for `source` in the cache; True when it was replaced.

        `force`: the cached token was refused (botocore said so), so it is not trusted even
        when it looks fresh.
        """
        before = self.tokens.read(source.cache_key)
        if not force and self._left(before) > FRESH_FOR:
            return False
        with self._locked(source):
            token = self.tokens.read(source.cache_key)
            left = self._left(token)
            changed = self._stamp(token) != self._stamp(before)
            if left > FRESH_FOR and (changed or not force):
                return changed  # another process signed in or refreshed while we waited
            if token is not None and self._refresh(source, token):
                return True
            if not force and left > USABLE_FOR:
                return changed
            self._sign_in(source)
            return True

    def login(self, source: SsoSource) -> dict[str, Any]:
        """Sign in now (`rolecall login`), whatever the cache holds; the new token."""
        with self._locked(source):
            return self._sign_in(source)

    def expires_at(self, source: SsoSource) -> datetime | None:
        """When the cached token for `source` expires, if there is one."""
        token = self.tokens.read(source.cache_key)
        return parse_time(token.get("expiresAt")) if token else None

    # -- the cache and the lock ----------------------------------------------------------------

    def _left(self, token: Mapping[str, Any] | None) -> float:
        expires = parse_time(token.get("expiresAt")) if token else None
        if expires is None or not token or not token.get("accessToken"):
            return -1.0
        return (expires - self.clock()).total_seconds()

    @staticmethod
    def _stamp(token: Mapping[str, Any] | None) -> object:
        return None if token is None else token.get("accessToken")

    @contextlib.contextmanager
    def _locked(self, source: SsoSource) -> Iterator[None]:
        from rolecall.core.private_files import ensure_private_dir

        ensure_private_dir(self.lock_dir)
        path = self.lock_dir / f"{source.cache_key}.lock"
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW
        fd = os.open(path, flags, 0o600)
        try:
            deadline = time.monotonic() + self.timeout + 60
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise errors.lock_timeout(source, self.timeout) from None
                    if self.cancel.wait(0.1):
                        raise errors.cancelled(source) from None
            yield
        finally:
            os.close(fd)  # closing releases the flock

    # -- sso-oidc --------------------------------------------------------------------------------

    def _client(self, source: SsoSource) -> Any:
        from botocore import UNSIGNED
        from botocore.config import Config

        if self.boto_session is not None:
            session = self.boto_session(source.profile)
        else:
            import boto3

            session = boto3.Session()
        config = Config(
            signature_version=UNSIGNED,
            user_agent_extra=f"rolecall/{__version__}",
            **CLIENT_SETTINGS,
        )
        return session.client("sso-oidc", region_name=source.region, config=config)

    def _refresh(self, source: SsoSource, token: Mapping[str, Any]) -> bool:
        """Renew the access token with the refresh token; False when that is not possible."""
        needed = ("refreshToken", "clientId", "clientSecret")
        if not all(isinstance(token.get(k), str) for k in needed):
            return False
        registered_until = parse_time(token.get("registrationExpiresAt"))
        if registered_until is None or registered_until <= self.clock():
            return False
        client = self._client(source)
        try:
            response = client.create_token(
                grantType="refresh_token",
                clientId=token["clientId"],
                clientSecret=token["clientSecret"],
                refreshToken=token["refreshToken"],
            )
        except Exception as error:
            from botocore.exceptions import ClientError

            if isinstance(error, ClientError):
                return False  # the refresh token was refused: sign in instead
            raise errors.failure(error, source, _endpoint(client)) from None
        registration = {
            "clientId": token["clientId"],
            "clientSecret": token["clientSecret"],
            "expiresAt": token["registrationExpiresAt"],
        }
        self._store(source, response, registration, str(token["refreshToken"]))
        return True

    def _sign_in(self, source: SsoSource) -> dict[str, Any]:
        if self.notify is None:
            raise errors.sign_in_required(source)
        self._check_cancel(source)
        client = self._client(source)
        try:
            if self.use_device_code:
                response, registration = self._device_flow(client, source)
            else:
                response, registration = self._browser_flow(client, source)
        except RolecallError:
            raise
        except Exception as error:
            raise errors.failure(error, source, _endpoint(client)) from None
        self.sign_ins += 1
        return self._store(source, response, registration, None)

    def _check_cancel(self, source: SsoSource) -> None:
        if self.cancel.is_set():
            raise errors.cancelled(source)

    def _store(
        self,
        source: SsoSource,
        response: Mapping[str, Any],
        registration: Mapping[str, Any],
        old_refresh: str | None,
    ) -> dict[str, Any]:
        try:
            expires = self.clock() + timedelta(seconds=int(response["expiresIn"]))
            token: dict[str, Any] = {
                "startUrl": source.start_url,
                "region": source.region,
                "accessToken": str(response["accessToken"]),
                "expiresAt": format_time(expires),
                "clientId": registration["clientId"],
                "clientSecret": registration["clientSecret"],
                "registrationExpiresAt": registration["expiresAt"],
            }
        except (KeyError, TypeError, ValueError):
            raise errors.unusable_answer() from None
        refresh = response.get("refreshToken") or old_refresh
        if refresh:
            token["refreshToken"] = str(refresh)
        self.tokens.write(source.cache_key, token)
        return token

    def _registration(self, client: Any, source: SsoSource, browser: bool) -> dict[str, Any]:
        """The cached client registration for this flow, or a new one (then cached)."""
        cached = self.tokens.read(source.registration_key)
        if cached is not None:
            until = parse_time(cached.get("expiresAt"))
            for_browser = "authorization_code" in (cached.get("grantTypes") or ())
            fresh = until is not None and (until - self.clock()).total_seconds() > FRESH_FOR
            keys = isinstance(cached.get("clientId"), str) and isinstance(
                cached.get("clientSecret"), str
            )
            if fresh and keys and for_browser == browser:
                return cached
        name = f"botocore-client-{source.session_name or int(self.clock().timestamp())}"
        arguments: dict[str, Any] = {
            "clientName": name,
            "clientType": "public",
            "scopes": source.registration_scopes,
        }
        if browser:
            arguments.update(
                grantTypes=list(AUTH_CODE_GRANTS),
                redirectUris=[f"http://127.0.0.1{CALLBACK_PATH}"],
                issuerUrl=source.start_url,
            )
        response = client.register_client(**arguments)
        until = datetime.fromtimestamp(int(response["clientSecretExpiresAt"]), UTC)
        registration: dict[str, Any] = {
            "clientId": str(response["clientId"]),
            "clientSecret": str(response["clientSecret"]),
            "expiresAt": format_time(until),
            "scopes": arguments["scopes"],
        }
        if browser:
            registration["grantTypes"] = list(AUTH_CODE_GRANTS)
        self.tokens.write(source.registration_key, registration)
        return registration

    def _browser_flow(
        self, client: Any, source: SsoSource
    ) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        registration = self._registration(client, source, browser=True)
        verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-]
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        state = secrets.token_urlsafe(24)
        server = CallbackServer(state)
        try:
            query = urllib.parse.urlencode(
                {
                    "response_type": "code",
                    "client_id": registration["clientId"],
                    "redirect_uri": server.redirect_uri,
                    "state": state,
                    "code_challenge_method": "S256",
                    "scopes": " ".join(registration.get("scopes") or source.registration_scopes),
                    "code_challenge": challenge,
                },
                quote_via=urllib.parse.quote,
            )
            url = f"{str(client.meta.endpoint_url).rstrip('/')}/authorize?{query}"
            assert self.notify is not None
            self.notify(SignInPrompt(source, "browser", url, expires_in=self.timeout))
            self._open_browser(url, self.browser or None, self.env)
            callback = server.wait(self.timeout, self.cancel)
        finally:
            server.close()
        self._check_cancel(source)
        if callback is None:
            raise errors.timed_out(source, self.timeout)
        if callback.error is not None:
            raise errors.browser_error(source, callback.error, callback.description)
        response = client.create_token(
            grantType="authorization_code",
            clientId=registration["clientId"],
            clientSecret=registration["clientSecret"],
            code=callback.code,
            redirectUri=server.redirect_uri,
            codeVerifier=verifier,
        )
        return response, registration

    def _device_flow(
        self, client: Any, source: SsoSource
    ) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        from botocore.exceptions import ClientError

        registration = self._registration(client, source, browser=False)
        authorization = client.start_device_authorization(
            clientId=registration["clientId"],
            clientSecret=registration["clientSecret"],
            startUrl=source.start_url,
        )
        interval = float(authorization.get("interval") or 5)
        expires_in = float(authorization.get("expiresIn") or self.timeout)
        deadline = time.monotonic() + expires_in
        assert self.notify is not None
        self.notify(
            SignInPrompt(
                source,
                "device",
                str(authorization["verificationUri"]),
                user_code=str(authorization["userCode"]),
                url_with_code=authorization.get("verificationUriComplete"),
                expires_in=expires_in,
            )
        )
        while True:
            self._check_cancel(source)
            try:
                response = client.create_token(
                    grantType=DEVICE_GRANT,
                    clientId=registration["clientId"],
                    clientSecret=registration["clientSecret"],
                    deviceCode=authorization["deviceCode"],
                )
                return response, registration
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code == "SlowDownException":
                    interval += SLOW_DOWN
                elif code != "AuthorizationPendingException":
                    raise
            if time.monotonic() + interval > deadline:
                raise errors.expired_code(source)
            self.sleep(interval)
            self._check_cancel(source)


def _endpoint(client: Any) -> str:
    return str(getattr(getattr(client, "meta", None), "endpoint_url", ""))
