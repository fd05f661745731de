"""Deterministic, valid rolecall catalogues of any size, for the benchmarks.

`write_catalogue(path, roles)` writes a schema-1 catalogue (with tomli_w) holding exactly
`roles` roles, about four per account. Accounts are named ENV-TEAM-K (`prod-payments-3`), ids
are unique 12-digit strings, every account carries tags and most a description, some roles
have their own description, a few roles are chained (`via` the hub's `OrgAccess`) and a few
ask for MFA. The same arguments always produce the same bytes.

Run it directly to write one file: `python bench/gen_catalogue.py OUT.toml 10000`.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import tomli_w

ENVS = ("prod", "staging", "dev", "qa", "sandbox", "perf")
TEAMS = (
    "payments",
    "search",
    "identity",
    "billing",
    "checkout",
    "ledger",
    "ml",
    "platform",
    "security",
    "data",
    "mobile",
    "web",
    "infra",
    "risk",
    "growth",
    "support",
    "catalog",
    "shipping",
    "fraud",
    "notify",
)
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2")
ROLE_NAMES = (
    "ReadOnly",
    "Developer",
    "Admin",
    "Deployer",
    "Operator",
    "Auditor",
    "DataAnalyst",
    "Support",
    "CostViewer",
)
HUB_ACCOUNT = "identity-hub"
HUB_ID = "000000000001"
HUB_ROLE = "OrgAccess"
MFA_SERIAL = f"arn:aws:iam::{HUB_ID}:mfa/alice"
ENV_WORDS = {
    "prod": "production",
    "staging": "staging",
    "dev": "development",
    "qa": "QA",
    "sandbox": "sandbox",
    "perf": "performance testing",
}

QUERY = "payments-1/ prod"
"""A two-word `rolecall list` query that matches only the roles of `prod-payments-1`
(a handful, 2-5 roles) in every generated catalogue of 125 roles or more."""


def account_name(index: int) -> str:
    """The name of account `index` (0-based, hub excluded): every ENV x TEAM, then K+1."""
    per_round = len(ENVS) * len(TEAMS)
    env = ENVS[index % len(ENVS)]
    team = TEAMS[(index // len(ENVS)) % len(TEAMS)]
    return f"{env}-{team}-{index // per_round + 1}"


def account_id(index: int) -> str:
    """A unique, random-looking 12-digit id (a bijection on 0..10**12-1, never the hub's)."""
    return f"{(index * 7_919_000_003 + 271_828_182_845) % 10**12:012d}"


def build(roles: int) -> dict[str, Any]:
    """The catalogue document (a TOML-ready dict) with exactly `roles` roles."""
    if roles < 1:
        raise ValueError("a catalogue needs at least one role")
    rng = random.Random(roles)
    hub: dict[str, Any] = {
        "name": HUB_ACCOUNT,
        "id": HUB_ID,
        "tags": ["hub", "identity"],
        "description": "Identity hub (IAM users)",
        "color": "blue",
        "roles": [{"name": HUB_ROLE, "mfa_serial": MFA_SERIAL, "duration": "4h"}],
    }
    accounts = [hub]
    remaining = roles - 1
    index = 0
    while remaining > 0:
        name = account_name(index)
        env, team, _ = name.split("-")
        count = min(remaining, rng.choice((3, 4, 4, 4, 5)))
        remaining -= count
        account: dict[str, Any] = {"name": name, "id": account_id(index)}
        region = REGIONS[(index // 7) % len(REGIONS)]
        if region != "eu-west-1":
            account["region"] = region
        account["tags"] = [env, team]
        if index % 3:
            account["description"] = f"{team.capitalize()} {ENV_WORDS[env]}, {region}"
        if env == "prod":
            account["color"] = "red"
        account["roles"] = [_role(rng, name, j, index) for j in range(count)]
        accounts.append(account)
        index += 1
    return {
        "version": 1,
        "defaults": {
            "region": "eu-west-1",
            "source_profile": "identity",
            "duration": "1h",
            "session_name": "@default",
        },
        "session_names": {"default": "{user}@{host}", "ticket": "{user}-{ticket}"},
        "accounts": accounts,
    }


def _role(rng: random.Random, account: str, position: int, index: int) -> dict[str, Any]:
    # ReadOnly first, then distinct names from the rest of the pool (at most 5 roles).
    others = len(ROLE_NAMES) - 1
    name = ROLE_NAMES[(position - 1 + index) % others + 1] if position else ROLE_NAMES[0]
    role: dict[str, Any] = {"name": name}
    roll = rng.random()
    if name == "Admin":
        role["tags"] = ["admin"]
        if roll < 0.15:  # a few admin roles are reached only through the hub
            role["via"] = f"{HUB_ACCOUNT}/{HUB_ROLE}"
            role["path"] = "/ops/"
            role["session_name"] = "@ticket"
        elif roll < 0.30:
            role["mfa_serial"] = MFA_SERIAL
    elif name == "Developer" and not account.startswith("prod"):
        role["duration"] = "8h"
    elif name == "DataAnalyst" and roll < 0.5:
        role["console"] = "athena"
    if roll > 0.85:
        role["description"] = f"{name} for {account}"
    return role


def write_catalogue(path: Path, roles: int) -> Path:
    """Write a deterministic catalogue with exactly `roles` roles to `path`; return `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tomli_w.dumps(build(roles)).encode("utf-8"))
    return path


def main(argv: list[str]) -> int:
    """`gen_catalogue.py OUT ROLES`."""
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: gen_catalogue.py OUT.toml ROLES", file=sys.stderr)
        return 2
    out = write_catalogue(Path(argv[0]), int(argv[1]))
    print(f"{out}: {int(argv[1]):,} roles, {out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
