"""`rolecall.session(target)`: a boto3 Session for long-running code (EC2, Lambda, daemons).

It uses the same catalogue, session-name templates and cache as the command line, and its
credentials renew themselves by the rule of `exec --server` and the TUI's keep-alive: botocore
asks for new ones `renew_before` seconds before expiry (20 minutes by default), and the
assumer then re-assumes the role from its cached parent hop.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rolecall.core.catalogue.store import load
from rolecall.core.credentials import rfc3339
from rolecall.core.lifecycle.renewal import renew_window
from rolecall.core.locations import Locations, catalogue_path
from rolecall.core.sts.assumer import Assumer
from rolecall.core.sts.errors import MfaRequired
from rolecall.core.sts.mfa import MfaLedger
from rolecall.core.sts.planner import AssumeOptions
from rolecall.core.sts.session_cache import SessionCache


def session(
    target: str,
    *,
    catalogue: str | Path | None = None,
    session_name: str | None = None,
    template: str | None = None,
    variables: Mapping[str, str] | None = None,
    duration: int | None = None,
    region: str | None = None,
    mfa: Callable[[str], str] | None = None,
    env: Mapping[str, str] | None = None,
    renew_before: int | None = None,
) -> Any:
    """A `boto3.Session` acting as `target`, refreshing its credentials before they expire.

    `mfa(serial)` is called for a code when a hop needs MFA and no cached session covers it;
    without it such a role raises `MfaRequired`. Credentials are renewed `renew_before`
    seconds before they expire (default: 20 minutes, or half a shorter session), a chained
    role from its cached parent hop.
    """
    import boto3
    import botocore.session
    from botocore.credentials import RefreshableCredentials

    environment = dict(os.environ if env is None else env)
    locations = Locations.from_env(environment)
    path = catalogue_path(str(catalogue) if catalogue else None, environment, locations)
    loaded = load(path, cache_dir=locations.cache_dir)
    role = loaded.resolve(target)
    assumer = Assumer(
        loaded,
        SessionCache(locations.sessions_dir),
        MfaLedger(locations.cache_dir / "mfa-ledger.json"),
        env=environment,
    )
    options = AssumeOptions(
        session_name=session_name,
        template=template,
        variables=dict(variables or {}),
        duration=duration,
        region=region,
    )

    # The same renewal rule as `exec --server` and the TUI's keep-alive: renew `renew_before`
    # seconds before expiry (20 minutes, or half a shorter session), from the cached parent hop.
    window = renew_window(assumer.plan(role, options).target.duration, renew_before)

    def fetch() -> dict[str, str]:
        try:
            current = assumer.assume(role, options, renew_within=window)
        except MfaRequired as needed:
            if mfa is None:
                raise
            current = assumer.assume(
                role, options._replace(mfa_code=mfa(needed.serial)), renew_within=window
            )
        creds = current.credentials
        return {
            "access_key": creds.access_key_id,
            "secret_key": creds.secret_access_key.reveal(),
            "token": creds.session_token.reveal(),
            "expiry_time": rfc3339(creds.expiration),
        }

    credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="rolecall"
    )
    # botocore refreshes inside its advisory window (15 min) and blocks inside the mandatory
    # one (10 min): move both to the renewal window, so they agree with the keeper's rule.
    credentials._advisory_refresh_timeout = window
    credentials._mandatory_refresh_timeout = min(10 * 60, window // 2)
    core = botocore.session.get_session()
    core._credentials = credentials  # the documented way boto3 users plug in refreshers
    return boto3.Session(botocore_session=core, region_name=region or role.region)
