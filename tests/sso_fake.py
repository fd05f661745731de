"""The loopback IAM Identity Center for tests (`rolecall.demo.identity_center`, which the demo
world serves too), and a fake browser.

The fake speaks sso-oidc and the portal; modes switch the user's answer: `authorize_mode`
(`approve`, `deny`, `ignore`: the tab is closed) and `device_mode` (`approve` once
`approve_device` is called, `deny`, `expire`).

`FAKE_BROWSER` is a script to use as BROWSER / `[console] browser`: it logs one line per
invocation, fetches the URL and follows the redirect to the loopback callback like a browser
(with `FAKE_BROWSER_TAMPER=1` it first sends the callback with a wrong state and logs the
status it got).
"""

from __future__ import annotations

import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from rolecall.demo import identity_center

START_URL = "https://corp.awsapps.com/start"

FAKE_BROWSER = """
import os, sys, urllib.error, urllib.parse, urllib.request
LOG = {log!r}
url = sys.argv[-1]
with open(LOG, "a") as log:
    log.write("open " + url + "\\n")

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

opener = urllib.request.build_opener(NoRedirect)
try:
    response = opener.open(url, timeout=10)
    location = None
except urllib.error.HTTPError as e:
    location = e.headers.get("Location")
if location and os.environ.get("FAKE_BROWSER_TAMPER"):
    parts = urllib.parse.urlsplit(location)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query["state"] = "forged-" + query.get("state", "")
    forged = parts._replace(query=urllib.parse.urlencode(query)).geturl()
    try:
        urllib.request.urlopen(forged, timeout=10)
        status = 200
    except urllib.error.HTTPError as e:
        status = e.code
    with open(LOG, "a") as log:
        log.write(f"forged {{status}}\\n")
if location:
    page = urllib.request.urlopen(location, timeout=10).read().decode()
    with open(LOG, "a") as log:
        log.write("callback " + ("Signed in" if "Signed in" in page else "failed") + "\\n")
"""


def fake_browser(directory: Path) -> tuple[Path, Path]:
    """A browser script and the log it writes (one `open URL` line per invocation)."""
    script = directory / "fake-browser"
    log = directory / "browser.log"
    script.write_text(f"#!{sys.executable}\n" + FAKE_BROWSER.format(log=str(log)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


def browser_opens(log: Path) -> int:
    """How many times the fake browser was started."""
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text().splitlines() if line.startswith("open "))


@dataclass
class FakeIdentityCenter(identity_center.FakeIdentityCenter):
    """The demo's fake, for the corp start URL the tests' AWS configs name."""

    start_url: str = START_URL
