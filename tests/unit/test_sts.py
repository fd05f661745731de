"""The STS engine against moto's server (through a recording proxy): what reaches the wire."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from rolecall.core.catalogue.model import Catalogue
from rolecall.core.catalogue.store import parse
from rolecall.core.errors import FreeVariableMissing, UsageError
from rolecall.core.naming.session_name import NameContext
from rolecall.core.sts.assumer import Assumer
from rolecall.core.sts.client_config import CLIENT_SETTINGS
from rolecall.core.sts.errors import MfaCodeInvalid, MfaCodeReused, MfaRequired
from rolecall.core.sts.mfa import MfaLedger, check_mfa_code
from rolecall.core.sts.planner import AssumeOptions, build_plan
from rolecall.core.sts.session_cache import SessionCache
from tests.aws import PROFILE_KEY, RecordingProxy, write_aws_config

CATALOGUE = textwrap.dedent(
    """
    version = 1
    [defaults]
    region = "eu-west-1"
    source_profile = "identity"

    [session_names]
    ticket = "{user}-{ticket}"

    [[accounts]]
    name = "hub"
    id = "000000000001"
      [[accounts.roles]]
      name = "Org"
      mfa_serial = "arn:aws:iam::000000000001:mfa/alice"
      duration = "2h"

    [[accounts]]
    name = "mid"
    id = "000000000002"
      [[accounts.roles]]
      name = "Hop"
      via = "hub/Org"

    [[accounts]]
    name = "spoke"
    id = "000000000003"
      [[accounts.roles]]
      name = "Full"
      path = "/ops/"
      external_id = "ext-1234"
      duration = "20m"
      session_name = "@ticket"
      source_identity = "{user}"
      session_tags = { team = "payments", cost = "42" }
      transitive_tags = ["team"]
      [[accounts.roles]]
      name = "Deep"
      via = "mid/Hop"
      [[accounts.roles]]
      name = "Plain"
    """
)


@pytest.fixture
def catalogue() -> Catalogue:
    return parse(CATALOGUE.encode(), "c.toml")


@pytest.fixture
def assumer(
    catalogue: Catalogue, sts: RecordingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Assumer:
    config = tmp_path / "aws-config"
    write_aws_config(config)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
    return Assumer(
        catalogue,
        SessionCache(tmp_path / "sessions"),
        MfaLedger(tmp_path / "ledger.json"),
        env={},
        name_context=lambda variables, caller: NameContext(
            user="alice", host="laptop", variables=variables, caller=caller
        ),
    )


def test_every_parameter_reaches_the_wire(
    assumer: Assumer, catalogue: Catalogue, sts: RecordingProxy
) -> None:
    role = catalogue.resolve("spoke/Full")
    session = assumer.assume(role, AssumeOptions(variables={"ticket": "INC 42"}))
    (call,) = sts.calls()
    assert call.params["RoleArn"] == "arn:aws:iam::000000000003:role/ops/Full"
    assert call.params["RoleSessionName"] == "alice-INC-42"
    assert call.params["DurationSeconds"] == "1200"
    assert call.params["ExternalId"] == "ext-1234"
    assert call.params["SourceIdentity"] == "alice"
    tags = {
        call.params[f"Tags.member.{i}.Key"]: call.params[f"Tags.member.{i}.Value"] for i in (1, 2)
    }
    assert tags == {"team": "payments", "cost": "42"}
    assert call.params["TransitiveTagKeys.member.1"] == "team"
    assert "SerialNumber" not in call.params
    assert call.access_key_id == PROFILE_KEY
    assert session.assumed_role_arn == "arn:aws:sts::000000000003:assumed-role/Full/alice-INC-42"
    assert session.session_name == "alice-INC-42"
    assert session.credentials.access_key_id.startswith("ASIA")


def test_mfa_is_sent_once_and_the_chain_is_signed_hop_by_hop(
    assumer: Assumer, catalogue: Catalogue, sts: RecordingProxy
) -> None:
    role = catalogue.resolve("spoke/Deep")
    with pytest.raises(MfaRequired) as needed:
        assumer.assume(role, AssumeOptions())
    assert needed.value.serial == "arn:aws:iam::000000000001:mfa/alice"
    assert sts.calls() == []
    session = assumer.assume(role, AssumeOptions(mfa_code="123456"))
    hub, mid, deep = sts.calls()
    assert [c.params["RoleArn"].rsplit("/", 1)[1] for c in (hub, mid, deep)] == [
        "Org",
        "Hop",
        "Deep",
    ]
    assert hub.params["SerialNumber"] == "arn:aws:iam::000000000001:mfa/alice"
    assert hub.params["TokenCode"] == "123456"
    assert "TokenCode" not in mid.params and "TokenCode" not in deep.params
    assert hub.access_key_id == PROFILE_KEY
    assert mid.access_key_id.startswith("ASIA") and mid.access_key_id != PROFILE_KEY
    assert deep.access_key_id not in (PROFILE_KEY, mid.access_key_id)
    assert hub.params["DurationSeconds"] == "7200"
    assert session.target == "spoke/Deep"
    # A second target through the same hub reuses the cached, MFA-backed hub session.
    assumer.assume(catalogue.resolve("mid/Hop"), AssumeOptions())
    assert len(sts.calls()) == 3, "mid/Hop itself was cached too"


@pytest.mark.parametrize(
    ("target", "hops"), [("spoke/Plain", 1), ("mid/Hop", 2), ("spoke/Deep", 3)]
)
def test_chains_of_one_two_and_three_hops(
    assumer: Assumer, catalogue: Catalogue, sts: RecordingProxy, target: str, hops: int
) -> None:
    session = assumer.assume(catalogue.resolve(target), AssumeOptions(mfa_code="654321"))
    assert len(sts.calls()) == hops
    assert session.assumed_role_arn.endswith("/alice@laptop")


def test_cache_hit_makes_no_call(
    assumer: Assumer, catalogue: Catalogue, sts: RecordingProxy
) -> None:
    role = catalogue.resolve("spoke/Plain")
    first = assumer.assume(role, AssumeOptions())
    second = assumer.assume(role, AssumeOptions())
    assert second == first
    assert len(sts.calls()) == 1
    assert assumer.cached(assumer.plan(role, AssumeOptions())) == first
    third = assumer.assume(role, AssumeOptions(use_cache=False))
    assert third != first
    assert len(sts.calls()) == 2


def test_options_change_the_key(assumer: Assumer, catalogue: Catalogue) -> None:
    role = catalogue.resolve("spoke/Full")
    keys = {
        assumer.plan(role, options).target.key
        for options in (
            AssumeOptions(variables={"ticket": "A"}),
            AssumeOptions(variables={"ticket": "B"}),
            AssumeOptions(variables={"ticket": "A"}, duration=900),
            AssumeOptions(variables={"ticket": "A"}, region="us-east-1"),
            AssumeOptions(session_name="explicit-name"),
        )
    }
    assert len(keys) == 5
    assert (
        assumer.plan(role, AssumeOptions(variables={"ticket": "A", "unused": "x"})).target.key
        == assumer.plan(role, AssumeOptions(variables={"ticket": "A"})).target.key
    )


def test_refusals_before_any_call(
    assumer: Assumer, catalogue: Catalogue, sts: RecordingProxy
) -> None:
    with pytest.raises(FreeVariableMissing):
        assumer.assume(catalogue.resolve("spoke/Full"), AssumeOptions())
    with pytest.raises(UsageError, match="caps at 1h"):
        assumer.assume(catalogue.resolve("mid/Hop"), AssumeOptions(duration=7200))
    with pytest.raises(UsageError, match="outside what STS allows"):
        assumer.assume(catalogue.resolve("spoke/Plain"), AssumeOptions(duration=60))
    with pytest.raises(UsageError, match="not valid"):
        assumer.assume(catalogue.resolve("spoke/Plain"), AssumeOptions(session_name="bad name!"))
    with pytest.raises(UsageError, match="no session-name template called"):
        assumer.assume(catalogue.resolve("spoke/Plain"), AssumeOptions(template="nope"))
    assert sts.requests == []


def test_template_option(assumer: Assumer, catalogue: Catalogue, sts: RecordingProxy) -> None:
    role = catalogue.resolve("spoke/Plain")
    session = assumer.assume(role, AssumeOptions(template="ticket", variables={"ticket": "T1"}))
    assert session.session_name == "alice-T1"
    session = assumer.assume(role, AssumeOptions(template="{role}-{user}"))
    assert session.session_name == "Plain-alice"


def test_caller_placeholder_uses_get_caller_identity(
    assumer: Assumer, catalogue: Catalogue, sts: RecordingProxy
) -> None:
    role = catalogue.resolve("spoke/Plain")
    session = assumer.assume(role, AssumeOptions(template="via-{caller}"))
    assert len(sts.calls("GetCallerIdentity")) == 1
    assert session.session_name.startswith("via-")


def test_client_settings_are_pinned(assumer: Assumer, catalogue: Catalogue) -> None:
    assert CLIENT_SETTINGS == {
        "connect_timeout": 3,
        "read_timeout": 10,
        "retries": {"mode": "standard", "total_max_attempts": 3},
    }
    hop = assumer.plan(catalogue.resolve("spoke/Plain"), AssumeOptions()).target
    client = assumer._client(hop, None)
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (3, 10)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert client.meta.region_name == "eu-west-1"


def test_regional_endpoint_by_partition(assumer: Assumer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_STS")
    gov = parse(
        b'version = 1\n[[accounts]]\nname = "g"\nid = "000000000009"\n'
        b'region = "us-gov-west-1"\nroles = [{name = "R"}]\n'
        b'[[accounts]]\nname = "c"\nid = "000000000008"\n'
        b'region = "cn-north-1"\nroles = [{name = "R"}]\n',
        "c.toml",
    )
    engine = Assumer(gov, assumer.cache, assumer.mfa_ledger, env={})
    endpoints = [
        engine._client(engine.plan(role, AssumeOptions()).target, None).meta.endpoint_url
        for role in gov
    ]
    assert endpoints == [
        "https://sts.us-gov-west-1.amazonaws.com",
        "https://sts.cn-north-1.amazonaws.com.cn",
    ]


class TestMfaLedger:
    def test_a_code_is_refused_the_second_time_in_its_step(self, tmp_path: Path) -> None:
        now = [1_000_000.0]
        ledger = MfaLedger(tmp_path / "ledger.json", clock=lambda: now[0])
        ledger.check("serial", "123456")
        ledger.record("serial", "123456")
        with pytest.raises(MfaCodeReused, match="already used"):
            ledger.check("serial", "123456")
        ledger.check("serial", "654321")
        ledger.check("other-serial", "123456")
        now[0] += 61
        ledger.check("serial", "123456")
        assert b"123456" not in (tmp_path / "ledger.json").read_bytes()
        assert (tmp_path / "ledger.json").stat().st_mode & 0o777 == 0o600

    def test_reuse_is_refused_locally_without_an_sts_call(
        self, assumer: Assumer, catalogue: Catalogue, sts: RecordingProxy
    ) -> None:
        assumer.assume(catalogue.resolve("hub/Org"), AssumeOptions(mfa_code="111111"))
        assumer.cache.forget(assumer.plan(catalogue.resolve("hub/Org"), AssumeOptions()).target.key)
        with pytest.raises(MfaCodeReused):
            assumer.assume(catalogue.resolve("hub/Org"), AssumeOptions(mfa_code="111111"))
        assert len(sts.calls()) == 1

    @pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "１２３４５６"])
    def test_codes_are_six_ascii_digits(self, code: str) -> None:
        with pytest.raises(MfaCodeInvalid):
            check_mfa_code(code)
        assert check_mfa_code(" 123 456 ") == "123456"


def test_a_free_variable_of_an_earlier_hop_names_the_hop_and_its_template() -> None:
    text = CATALOGUE.replace(
        'duration = "2h"\n', 'duration = "2h"\n      session_name = "{user}-{ticket}"\n', 1
    )
    chained = parse(text.encode(), "c.toml")
    with pytest.raises(FreeVariableMissing) as caught:
        build_plan(chained, chained.resolve("spoke/Deep"), AssumeOptions(template="{user}"), {})
    assert caught.value.message == (
        'hop 1 of 3 (hub/Org) uses the session-name template "{user}-{ticket}", '
        "which needs --var ticket=…."
    )
    assert caught.value.names == ["ticket"]
    with pytest.raises(FreeVariableMissing) as target_only:
        build_plan(
            catalogue_of(CATALOGUE),
            catalogue_of(CATALOGUE).resolve("spoke/Full"),
            AssumeOptions(),
            {},
        )
    assert target_only.value.where is None
    assert "needs a value for ticket" in target_only.value.message


def catalogue_of(text: str) -> Catalogue:
    return parse(text.encode(), "c.toml")
