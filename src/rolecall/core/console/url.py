"""Console sign-in links: getSigninToken, the login URL, destinations, logout-first, containers.

The link is a bearer secret valid for 15 minutes, and the getSigninToken request carries the
full credentials. So: the request is a POST (credentials in the body, never in a URL that a
proxy or an exception could log), errors are our own sentences with no URL query in them,
and the link is built immediately before it is used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from rolecall.core.credentials import Credentials
from rolecall.core.errors import RolecallError, UsageError

SIGNIN_HOSTS = {
    "aws": "signin.aws.amazon.com",
    "aws-cn": "signin.amazonaws.cn",
    "aws-us-gov": "signin.amazonaws-us-gov.com",
}
"""Federation hosts for the partitions whose console accepts federation sign-in."""

CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}

SERVICES: dict[str, str] = {
    "home": "console/home",
    "s3": "s3/home",
    "ec2": "ec2/home",
    "iam": "iam/home",
    "lambda": "lambda/home",
    "cloudformation": "cloudformation/home",
    "cloudwatch": "cloudwatch/home",
    "logs": "cloudwatch/home#logsV2:log-groups",
    "cloudtrail": "cloudtrailv2/home",
    "dynamodb": "dynamodbv2/home",
    "rds": "rds/home",
    "ecs": "ecs/v2/home",
    "eks": "eks/home",
    "ecr": "ecr/home",
    "sqs": "sqs/v3/home",
    "sns": "sns/v3/home",
    "vpc": "vpcconsole/home",
    "route53": "route53/v2/home",
    "kms": "kms/home",
    "secretsmanager": "secretsmanager/home",
    "ssm": "systems-manager/home",
    "athena": "athena/home",
    "glue": "glue/home",
    "billing": "billing/home",
    "organizations": "organizations/v2/home",
    "guardduty": "guardduty/home",
    "securityhub": "securityhub/home",
    "sso": "singlesignon/home",
}
"""Console destination shortcuts (`--destination s3`); other lower-case words map to
`WORD/home`."""

GLOBAL_SERVICES = frozenset({"iam", "billing", "organizations", "route53"})
"""Services whose console has no region in its host."""

CONTAINER_FORMS = ("granted", "open-url-in-container")
"""Firefox container hand-offs: the Granted Containers extension (`ext+granted-containers:`)
and "Open external links in a container" (`ext+container:`)."""

_SHORTCUT = re.compile(r"[a-z][a-z0-9-]{0,63}")


class ConsoleError(RolecallError):
    """The console link could not be made."""


def federation_endpoint(partition: str, region: str, env: Mapping[str, str]) -> str:
    """The `/federation` URL for a partition; the regional host outside us-east-1 (`aws`).

    `ROLECALL_FEDERATION_ENDPOINT` overrides it (tests and the demo use a local endpoint).
    """
    override = env.get("ROLECALL_FEDERATION_ENDPOINT")
    if override:
        return override
    host = SIGNIN_HOSTS.get(partition)
    if host is None:
        raise ConsoleError(
            f"console sign-in is not supported in the {partition} partition.",
            hint="rolecall can sign in to the aws, aws-cn and aws-us-gov consoles",
        )
    if partition == "aws" and region and region != "us-east-1":
        host = f"{region}.{host}"
    return f"https://{host}/federation"


def destination_url(partition: str, region: str, destination: str | None) -> str:
    """The console page to land on: a shortcut (`s3`, `logs`, ...), a console URL, or home."""
    console = CONSOLE_HOSTS.get(partition)
    if console is None:
        raise ConsoleError(f"console sign-in is not supported in the {partition} partition.")
    if destination and destination.startswith("https://"):
        host = urlsplit(destination).hostname or ""
        if host != console and not host.endswith("." + console):
            raise UsageError(
                f"{destination[:80]} is not an AWS console URL for {partition}.",
                hint=f"console URLs live under {console}",
            )
        return destination
    service = destination or "home"
    if not _SHORTCUT.fullmatch(service):
        raise UsageError(
            f"'{service[:40]}' is neither a console service nor an https:// URL.",
            hint="e.g. --destination s3, cloudwatch, ec2, iam, lambda, logs",
        )
    path = SERVICES.get(service, f"{service}/home")
    path, _, fragment = path.partition("#")
    if service in GLOBAL_SERVICES:
        url = f"https://{console}/{path}"
    else:
        regional = f"{region}.{console}" if partition == "aws" else console
        url = f"https://{regional}/{path}?region={region}"
    return url + (f"#{fragment}" if fragment else "")


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """What to send to getSigninToken, and where."""

    endpoint: str
    credentials: Credentials
    session_duration: int | None
    """Console session length; None for chained credentials (AWS refuses it there)."""


def _post(endpoint: str, fields: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    body = urlencode(fields).encode()
    request = urllib.request.Request(  # noqa: S310 -- https, or the configured local endpoint
        endpoint,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as e:
        return int(e.code), b""


def signin_token(request: TokenRequest, timeout: float = 10.0) -> str:
    """Exchange credentials for a SigninToken (POST, so they never sit in a URL).

    `SessionDuration` is sent only where given; a 400 with it is retried once without, as
    AWS refuses it for role-chained credentials it cannot tell apart in advance.
    """
    creds = request.credentials
    session = json.dumps(
        {
            "sessionId": creds.access_key_id,
            "sessionKey": creds.secret_access_key.reveal(),
            "sessionToken": creds.session_token.reveal(),
        }
    )
    fields = {"Action": "getSigninToken", "Session": session}
    if request.session_duration is not None:
        fields["SessionDuration"] = str(request.session_duration)
    host = urlsplit(request.endpoint).netloc
    try:
        status, body = _post(request.endpoint, fields, timeout)
        if status == 400 and "SessionDuration" in fields:
            del fields["SessionDuration"]
            status, body = _post(request.endpoint, fields, timeout)
    except TimeoutError:
        raise ConsoleError(
            f"the AWS sign-in endpoint {host} did not answer in time.",
            hint="check your network and try again",
        ) from None
    except OSError as e:
        reason = getattr(e, "reason", None) or e.strerror or type(e).__name__
        raise ConsoleError(
            f"cannot reach the AWS sign-in endpoint {host} ({reason}).",
            hint="check your network and proxy settings",
        ) from None
    if status != 200:
        raise ConsoleError(
            f"the AWS sign-in endpoint {host} refused the credentials (HTTP {status}).",
            hint="the session may have expired: run `rolecall forget TARGET` and try again",
        )
    try:
        token = json.loads(body)["SigninToken"]
        if not isinstance(token, str) or not token:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ConsoleError(
            f"the AWS sign-in endpoint {host} sent an answer without a sign-in token."
        ) from None
    return token


def login_url(endpoint: str, token: str, destination: str, issuer: str = "rolecall") -> str:
    """The link that signs the browser in (a secret for 15 minutes)."""
    query = urlencode(
        {"Action": "login", "Issuer": issuer, "Destination": destination, "SigninToken": token}
    )
    return f"{endpoint}?{query}"


def logout_first(url: str, partition: str, endpoint: str | None = None) -> str:
    """Wrap `url` so that the browser signs out of any other account first.

    With a non-AWS federation `endpoint` (the demo's, a test's), its own /oauth is used.
    """
    host = {
        "aws": "us-east-1.signin.aws.amazon.com",
        "aws-us-gov": "us-east-1.signin.amazonaws-us-gov.com",
        "aws-cn": "signin.amazonaws.cn",
    }.get(partition, "us-east-1.signin.aws.amazon.com")
    base = f"https://{host}"
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if not any((parts.hostname or "").endswith(h) for h in SIGNIN_HOSTS.values()):
            base = f"{parts.scheme}://{parts.netloc}"
    return f"{base}/oauth?Action=logout&redirect_uri={quote(url, safe='')}"


def container_url(url: str, name: str, color: str | None, form: str = "granted") -> str:
    """A Firefox container hand-off URL; every field is escaped, names included."""
    fields = {"name": name, "url": url, "color": color or "blue", "icon": "briefcase"}
    scheme = "ext+granted-containers:" if form == "granted" else "ext+container:"
    return scheme + urlencode(fields, quote_via=quote)


def sign_in_link(
    partition: str,
    session: Any,
    *,
    destination: str | None,
    session_duration: int | None,
    logout: bool,
    env: Mapping[str, str],
) -> tuple[str, str]:
    """A fresh sign-in link for `session` and its destination URL (blocking: one POST).

    `session_duration` must be None for role-chained credentials (AWS refuses it there).
    The link is valid for 15 minutes: make it right before it is used.
    """
    landing = destination_url(partition, session.region, destination)
    endpoint = federation_endpoint(partition, session.region, env)
    token = signin_token(TokenRequest(endpoint, session.credentials, session_duration))
    url = login_url(endpoint, token, landing)
    return (logout_first(url, partition, endpoint) if logout else url), landing


def hand_to_browser(
    link: str,
    *,
    browser: tuple[str, ...],
    container: str | None,
    name: str,
    color: str | None,
    env: Mapping[str, str],
    timeout: float = 60,
    on_refused: Callable[[int], None] | None = None,
) -> bool:
    """Open `link` through a one-shot loopback URL that only our user can fetch.

    The link itself is never in argv (see `rolecall.core.console.browser`). True only once
    the page was served to a connection of ours; False when that did not happen within
    `timeout`. When other local users asked for the page (and were refused), `on_refused`
    is called with their count before returning, whatever the outcome.
    """
    from rolecall.core.console.browser import OneShotRedirect, open_in_browser

    redirect = OneShotRedirect(link)
    try:
        handoff = redirect.url
        if container:
            handoff = container_url(handoff, name, color, container)
        open_in_browser(redirect.browser_url(handoff), browser, env)
    except BaseException:
        redirect.wait(0)
        raise
    opened = redirect.wait(timeout=timeout)
    if redirect.refused and on_refused is not None:
        on_refused(redirect.refused)
    return opened
