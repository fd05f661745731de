"""The demo world: an organisation on loopback that anyone can try without an AWS account.

moto's server runs in-process on a free port, seeded through its backends with a hub
account (user alice, behind MFA) and four spoke accounts with realistic roles. IAM
authorisation is then switched on, so the one role alice may not assume really fails with
AccessDenied. A local sign-in endpoint turns console links into a page naming the identity.
A fake IAM Identity Center (`identity_center`) signs in the profile `demo-sso`, whose portal
hands out real emulator credentials of the permission set's role; the role `payments-dev/
Deployer` has that profile as its source, and no token is cached at start, so assuming it
shows the sign-in. Its device codes approve themselves after `APPROVE_AFTER` seconds (nobody
has a browser to approve them in), and the demo signs in with a device code.
Everything lives in a private temporary directory (0700, files 0600) that `stop()` removes.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from rolecall.core.errors import UsageError
from rolecall.core.private_files import ensure_private_dir, write_private

HUB = "210987654321"
ACCOUNTS = {
    "identity": HUB,
    "payments-prod": "111111111111",
    "payments-dev": "222222222222",
    "data-lake": "333333333333",
    "security-audit": "444444444444",
}
DENIED = ("security-audit", "BreakGlass")
"""The role the demo user is not allowed to assume (shows the AccessDenied sentence)."""
USER = "alice"
MFA_SERIAL = f"arn:aws:iam::{HUB}:mfa/{USER}"
EXTERNAL_ID = "lake-7f3a"
REGION = "eu-west-1"
SSO_PROFILE = "demo-sso"
"""The AWS profile that signs in to the demo's IAM Identity Center."""
SSO_START_URL = "https://rolecall-demo.invalid/start"
"""The demo directory's start URL (a name only: every call goes to the loopback fake)."""
SSO_ROLE = ("identity", "PowerUser")
"""The permission set's role in the account the sign-in is assigned to (the hub: moto finds
an assumed role's policies in the account of whoever assumed it, the portal's hub user)."""
SSO_TARGET = ("payments-dev", "Deployer")
"""The catalogue role whose source is the Identity Center profile."""
APPROVE_AFTER = 4.0
"""Seconds after which the demo's Identity Center approves a device code by itself."""
SIGN_IN_NOTE = (
    f"Demo world: nobody has to enter this code; the demo's Identity Center approves it by "
    f"itself about {APPROVE_AFTER:g} s after it was shown (a real one waits for you)."
)
"""What the demo's sign-in dialog says about the approval."""

CATALOGUE = f"""\
# The rolecall demo world: every account below lives in moto's server on loopback.
version = 1

[defaults]
region = "{REGION}"
source_profile = "demo"
duration = "20m"
session_name = "@default"

[session_names]
default = "{{user}}@{{host}}"
ticket = "{{user}}-{{ticket}}"
incident = "oncall-{{user}}-{{date}}"

[[accounts]]
name = "identity"
id = "{HUB}"
tags = ["hub"]
description = "Identity account: the demo user alice lives here"
color = "blue"

  [[accounts.roles]]
  name = "OrgAccess"
  mfa_serial = "{MFA_SERIAL}"
  description = "Hub role behind MFA; the spokes' admin roles chain through it"

[[accounts]]
name = "payments-prod"
id = "111111111111"
tags = ["prod", "payments"]
description = "Payments production"
color = "red"

  [[accounts.roles]]
  name = "ReadOnly"
  duration = "15m"

  [[accounts.roles]]
  name = "Admin"
  via = "identity/OrgAccess"
  session_name = "@ticket"
  session_tags = {{ team = "payments" }}
  transitive_tags = ["team"]
  console = "cloudwatch"

  [[accounts.roles]]
  name = "OnCall"
  session_name = "@incident"
  tags = ["oncall"]

[[accounts]]
name = "payments-dev"
id = "222222222222"
tags = ["dev", "payments"]
description = "Payments development"
color = "green"

  [[accounts.roles]]
  name = "Developer"
  duration = "15m"

  [[accounts.roles]]
  name = "ReadOnly"

  [[accounts.roles]]
  name = "Deployer"
  source_profile = "{SSO_PROFILE}"
  description = "From an IAM Identity Center sign-in ({SSO_PROFILE}): assuming it signs in first"

[[accounts]]
name = "data-lake"
id = "333333333333"
region = "us-east-1"
tags = ["data"]
description = "Shared analytics lake"
color = "purple"

  [[accounts.roles]]
  name = "Analyst"
  external_id = "{EXTERNAL_ID}"
  console = "s3"

[[accounts]]
name = "security-audit"
id = "444444444444"
tags = ["security"]
description = "Security tooling and audit logs"
color = "orange"

  [[accounts.roles]]
  name = "Auditor"
  via = "identity/OrgAccess"

  [[accounts.roles]]
  name = "BreakGlass"
  description = "Emergency access: alice is not allowed to assume it"
"""

ROLES = [
    ("identity", "OrgAccess"),
    ("payments-prod", "ReadOnly"),
    ("payments-prod", "Admin"),
    ("payments-prod", "OnCall"),
    ("payments-dev", "Developer"),
    ("payments-dev", "ReadOnly"),
    SSO_TARGET,
    ("data-lake", "Analyst"),
    ("security-audit", "Auditor"),
    ("security-audit", "BreakGlass"),
]
"""Every demo role as (account, role)."""


def demo_mfa_code(now: float | None = None) -> str:
    """A TOTP-like demo code that changes every 30 s (the emulator accepts any code)."""
    step = int((time.time() if now is None else now) // 30)
    return f"{(step * 48271 + 12345) % 1_000_000:06d}"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _arn(account: str, role: str) -> str:
    return f"arn:aws:iam::{ACCOUNTS[account]}:role/{role}"


class DemoWorld:
    """The running demo world; use as a context manager or call `stop()`."""

    def __init__(self) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise UsageError(
                "the demo needs moto's server, which is not installed.",
                hint="install the demo extra: pip install 'rolecall[demo]' (make demo does it)",
            ) from None
        self.root = ensure_private_dir(Path(tempfile.mkdtemp(prefix="rolecall-demo-")))
        """Private temporary directory (0700) holding everything the demo writes."""
        self.proof_key = secrets.token_bytes(32)
        """Lets the sign-in endpoint prove to `--print-env` that it is this world."""
        self._moto: Any = None
        self._signin: Any = None
        self._identity_center: Any = None
        import logging

        # werkzeug logs every request to stderr, which would scribble over the TUI.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        try:
            self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._moto.start()
            host, port = self._moto.get_host_and_port()
            self.endpoint = f"http://{host}:{port}"
            """moto's server."""
            key, secret = self._seed()
            from rolecall.demo.signin import SigninServer

            self._signin = SigninServer(self.endpoint, self.proof_key)
            self._identity_center = self._serve_identity_center(key, secret)
            self._write_files(key, secret)
        except BaseException:
            self.stop()
            raise

    def _seed(self) -> tuple[str, str]:
        """Accounts, alice with her policy, the roles; then turn IAM authorisation on."""
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin
        from moto.iam.models import iam_backends
        from moto.s3.models import s3_backends

        user_arn = f"arn:aws:iam::{HUB}:user/{USER}"
        hub_role = _arn("identity", "OrgAccess")
        hub = iam_backends[HUB]["global"]
        hub.create_user(REGION, USER)
        access_key = hub.create_access_key(USER)
        # alice may also assume the permission set's role: the demo portal does it for her.
        allowed = [_arn(a, r) for a, r in (*ROLES, SSO_ROLE) if (a, r) != DENIED]
        hub.put_user_policy(
            USER,
            "assume-demo-roles",
            _policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": allowed}),
        )
        read = {
            "Effect": "Allow",
            "Action": ["sts:GetCallerIdentity", "s3:ListAllMyBuckets", "s3:ListBucket"],
            "Resource": "*",
        }
        for account, role in ROLES:
            principals = [f"arn:aws:iam::{HUB}:root", user_arn, hub_role, _arn(*SSO_ROLE)]
            trust = _policy(
                {"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}
            )
            backend = iam_backends[ACCOUNTS[account]]["global"]
            backend.create_role(role, trust, "/", None, f"rolecall demo: {role}", [], "43200")
            statements = [read]
            if (account, role) == ("identity", "OrgAccess"):
                statements.append({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
            backend.put_role_policy(role, "demo", _policy(*statements))
        self._seed_identity_center(read, user_arn)
        for account, account_id in ACCOUNTS.items():
            s3 = s3_backends[account_id]["aws"]
            for suffix in ("logs", "artifacts"):
                s3.create_bucket(f"{account}-{suffix}-{account_id[-4:]}", REGION)
        # From here on every request is checked against the policies above.
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0
        return str(access_key.access_key_id), str(access_key.secret_access_key)

    def _seed_identity_center(self, read: dict[str, Any], user_arn: str) -> None:
        """The permission set's role: it may assume the role whose source is the sign-in."""
        from moto.iam.models import iam_backends

        account, role = SSO_ROLE
        backend = iam_backends[ACCOUNTS[account]]["global"]
        principals = [f"arn:aws:iam::{HUB}:root", user_arn]
        trust = _policy(
            {"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}
        )
        backend.create_role(
            role, trust, "/", None, "IAM Identity Center permission set", [], "43200"
        )
        assume = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": _arn(*SSO_TARGET)}
        backend.put_role_policy(role, "demo", _policy(read, assume))

    def _serve_identity_center(self, key: str, secret: str) -> Any:
        """The fake IAM Identity Center; its portal hands alice (who signs in) credentials
        of the permission set's role, assumed with her keys in the emulator."""
        from rolecall.demo.identity_center import FakeIdentityCenter

        def role_credentials(account_id: str, role_name: str) -> dict[str, Any]:
            import boto3

            sts = boto3.client(
                "sts",
                endpoint_url=self.endpoint,
                region_name=REGION,
                aws_access_key_id=key,
                aws_secret_access_key=secret,
            )
            arn = f"arn:aws:iam::{account_id}:role/{role_name}"
            answer = sts.assume_role(RoleArn=arn, RoleSessionName=USER, DurationSeconds=3600)
            credentials = answer["Credentials"]
            return {
                "accessKeyId": credentials["AccessKeyId"],
                "secretAccessKey": credentials["SecretAccessKey"],
                "sessionToken": credentials["SessionToken"],
                "expiration": int(credentials["Expiration"].timestamp() * 1000),
            }

        account, role = SSO_ROLE
        return FakeIdentityCenter(
            start_url=SSO_START_URL,
            approve_after=APPROVE_AFTER,
            role_credentials=role_credentials,
            assignments=((ACCOUNTS[account], account, role),),
        )

    def _write_files(self, key: str, secret: str) -> None:
        self.home = self.root / "home"
        """ROLECALL_HOME of the demo."""
        ensure_private_dir(self.home)
        self.catalogue = self.root / "accounts.toml"
        """The demo catalogue."""
        write_private(self.catalogue, CATALOGUE.encode())
        self.aws_config = self.root / "aws-config"
        """The demo-only AWS config (alice's keys for the emulator)."""
        profile = (
            f"[profile demo]\naws_access_key_id = {key}\n"
            f"aws_secret_access_key = {secret}\nregion = {REGION}\n\n"
            f"[profile {SSO_PROFILE}]\nsso_session = {SSO_PROFILE}\n"
            f"sso_account_id = {ACCOUNTS[SSO_ROLE[0]]}\nsso_role_name = {SSO_ROLE[1]}\n"
            f"region = {REGION}\n\n"
            f"[sso-session {SSO_PROFILE}]\nsso_start_url = {SSO_START_URL}\n"
            f"sso_region = {REGION}\nsso_registration_scopes = sso:account:access\n"
        )
        write_private(self.aws_config, profile.encode())
        write_private(self.root / "aws-credentials", b"")
        self.env_file = self.root / "demo.env"
        """Shell exports that point other terminals at this world."""
        lines = [f"export {k}={_quote(v)}" for k, v in self.env().items()]
        write_private(self.env_file, ("\n".join(lines) + "\n").encode())

    def env(self) -> dict[str, str]:
        """Environment that points rolecall, boto3 and the AWS CLI at the demo world."""
        return {
            "ROLECALL_HOME": str(self.home),
            "ROLECALL_CATALOGUE": str(self.catalogue),
            "ROLECALL_FEDERATION_ENDPOINT": self._signin.url,
            "ROLECALL_DEMO": "1",
            "AWS_CONFIG_FILE": str(self.aws_config),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.root / "aws-credentials"),
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_SSO_OIDC": self._identity_center.url,
            "AWS_ENDPOINT_URL_SSO": self._identity_center.url,
            "ROLECALL_SSO_CACHE_DIR": str(self.root / "sso-cache"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PROFILE": "demo",
        }

    def stop(self) -> None:
        """Stop the servers and remove every file the demo wrote."""
        if self._identity_center is not None:
            self._identity_center.close()
            self._identity_center = None
        if self._signin is not None:
            self._signin.stop()
            self._signin = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> DemoWorld:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _quote(value: str) -> str:
    import shlex

    return shlex.quote(value)
