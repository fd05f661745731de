"""Planning a fan-out without AWS: shared hops, dry-run ARNs, planning errors, the memory cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rolecall.core.catalogue.store import load
from rolecall.core.credentials import Credentials, Secret, Session
from rolecall.core.errors import UsageError
from rolecall.core.fanout.batch import Batch, MemoryCache
from rolecall.core.naming.session_name import NameContext
from rolecall.core.sts.assumer import Assumer
from rolecall.core.sts.mfa import MfaLedger
from rolecall.core.sts.planner import AssumeOptions
from rolecall.core.sts.session_cache import SessionCache
from tests.conftest import EXAMPLE


def assumer(tmp_path: Path) -> Assumer:
    catalogue = load(EXAMPLE, tmp_path / "cache")
    return Assumer(
        catalogue,
        SessionCache(tmp_path / "sessions"),
        MfaLedger(tmp_path / "ledger.json"),
        env={},
        name_context=lambda variables, caller: NameContext(
            user="alice", host="laptop", variables=variables, caller=caller
        ),
    )


def test_hops_shared_or_behind_mfa_are_assumed_first(tmp_path: Path) -> None:
    a = assumer(tmp_path)
    roles = [a.catalogue.get(t) for t in ("payments-prod/Admin", "security-audit/Auditor")]
    batch = Batch(a, [r for r in roles if r], AssumeOptions(variables={"ticket": "INC1"}))
    hub = batch.targets[0].plan.hops[0]
    assert hub.role.target == "identity/OrgAccess"
    assert batch.shared_keys() == {hub.key}
    assert [r.target for r in batch.guarded()] == ["payments-prod/Admin"]
    dev = [r for r in a.catalogue.search("payments dev")]
    assert Batch(a, dev, AssumeOptions()).shared_keys() == set()


def test_previews_render_the_cloudtrail_arn(tmp_path: Path) -> None:
    a = assumer(tmp_path)
    roles = a.catalogue.search("payments")
    previews = Batch(a, roles, AssumeOptions(variables={"ticket": "INC1"})).previews()
    by_target = {p.target: p for p in previews}
    admin = by_target["payments-prod/Admin"]
    assert admin.assumed_role_arn == "arn:aws:sts::111111111111:assumed-role/Admin/alice-INC1"
    assert admin.via == ("identity/OrgAccess",) and admin.confirm
    explicit = Batch(a, roles, AssumeOptions(session_name="ci")).previews()
    assert {p.assumed_role_arn.rsplit("/", 1)[1] for p in explicit} == {"ci"}
    rand = Batch(a, roles[:1], AssumeOptions(template="x-{rand}-{caller}")).previews()
    assert rand[0].assumed_role_arn.endswith("/x-{rand}-{caller}")


def test_a_planning_error_names_its_target(tmp_path: Path) -> None:
    a = assumer(tmp_path)
    with pytest.raises(UsageError, match=r"^payments-prod/Admin: the session-name template"):
        Batch(a, a.catalogue.search("payments"), AssumeOptions())


def test_without_the_cache_sessions_are_shared_in_memory(tmp_path: Path) -> None:
    a = assumer(tmp_path)
    batch = Batch(a, a.catalogue.search("payments dev"), AssumeOptions(use_cache=False))
    cache = batch.assumer.cache
    assert isinstance(cache, MemoryCache) and batch.options.use_cache
    now = datetime.now(UTC)
    session = Session(
        "t/r", "arn", "name", None, "arn:sts", "eu-west-1", now,
        Credentials("ASIA0000", Secret("s"), Secret("t"), now + timedelta(hours=1)),
    )  # fmt: skip
    made = cache.get_or_create("k", 3600, lambda: session)
    assert made is session and cache.get("k") is session
    assert list(cache.entries()) == [("k", session)]
    assert not (tmp_path / "sessions").exists()
    assert cache.forget("k") and cache.get("k") is None
