"""The catalogue loader: inheritance, derived values, references, and problems with lines."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from rolecall.core.catalogue.model import (
    CatalogueError,
    format_duration,
    parse_duration,
    partition_of,
)
from rolecall.core.catalogue.store import load, parse
from rolecall.core.errors import AmbiguousTarget, RolecallError, TargetNotFound
from tests.conftest import EXAMPLE


def catalogue_text(body: str) -> bytes:
    return ("version = 1\n" + textwrap.dedent(body)).encode()


def problems_of(body: str) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        parse(catalogue_text(body), "c.toml")
    return [str(p) for p in caught.value.problems]


def test_example_catalogue_loads() -> None:
    catalogue = parse(EXAMPLE.read_bytes(), str(EXAMPLE))
    assert len(catalogue.accounts) == 5
    admin = catalogue.resolve("payments-prod/Admin")
    assert admin.arn == "arn:aws:iam::111111111111:role/ops/Admin"
    assert admin.via == "identity/OrgAccess"
    assert admin.session_name == "{user}-{ticket}"
    assert admin.session_name_ref == "ticket"
    assert admin.session_tags == (("team", "payments"),)
    assert admin.confirm is True  # tagged prod
    assert admin.tags == ("prod", "payments", "admin")
    assert [r.target for r in catalogue.chain(admin)] == ["identity/OrgAccess", admin.target]


def test_inheritance_defaults_then_account_then_role() -> None:
    catalogue = parse(
        catalogue_text(
            """
            [defaults]
            region = "eu-west-1"
            duration = "2h"
            source_profile = "base"
            confirm = true

            [[accounts]]
            name = "a"
            id = "000000000001"
            region = "eu-central-1"
            duration = 5400

              [[accounts.roles]]
              name = "Inherits"

              [[accounts.roles]]
              name = "Overrides"
              duration = "15m"
              source_profile = "other"
              confirm = false
            """
        ),
        "c.toml",
    )
    inherits, overrides = catalogue.roles
    assert (inherits.region, inherits.duration, inherits.source_profile) == (
        "eu-central-1",
        5400,
        "base",
    )
    assert inherits.confirm is True
    assert (overrides.duration, overrides.source_profile, overrides.confirm) == (
        900,
        "other",
        False,
    )
    assert inherits.session_name == "{user}@{host}"


@pytest.mark.parametrize(
    ("region", "partition", "arn_prefix"),
    [
        ("us-east-1", "aws", "arn:aws:iam::"),
        ("cn-north-1", "aws-cn", "arn:aws-cn:iam::"),
        ("us-gov-west-1", "aws-us-gov", "arn:aws-us-gov:iam::"),
    ],
)
def test_partition_is_derived_from_region(region: str, partition: str, arn_prefix: str) -> None:
    catalogue = parse(
        catalogue_text(
            f"""
            [[accounts]]
            name = "a"
            id = "000000000001"
            region = "{region}"
            roles = [{{ name = "R" }}]
            """
        ),
        "c.toml",
    )
    role = catalogue.roles[0]
    assert role.partition == partition
    assert role.arn.startswith(arn_prefix)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("15m", 900),
        ("1h", 3600),
        ("1h30m", 5400),
        ("12h", 43200),
        ("90s", 90),
        ("3600", 3600),
        (3600, 3600),
        ("", None),
        ("1d", None),
        ("h", None),
        (True, None),
        (1.5, None),
        ("１h", None),
    ],
)
def test_parse_duration(value: object, seconds: int | None) -> None:
    assert parse_duration(value) == seconds


def test_format_duration_round_trips() -> None:
    for seconds in (900, 3600, 5400, 43200, 45, 3661):
        assert parse_duration(format_duration(seconds)) == seconds


def test_partition_of() -> None:
    assert partition_of("eu-west-1") == "aws"
    assert partition_of("us-isob-east-1") == "aws-iso-b"
    assert partition_of("mars-north-1") is None
    assert partition_of("US-EAST-1") is None


def test_every_problem_is_reported_with_its_line() -> None:
    body = """
        [defaults]
        regoin = "eu-west-1"

        [[accounts]]
        name = "bad name"
        id = "123"

        [[accounts]]
        name = "ok"
        id = "000000000001"

          [[accounts.roles]]
          name = "R"
          duration = "13h"
        """
    lines = problems_of(body)
    assert lines == [
        "c.toml:4: defaults.regoin: unknown key \"regoin\". (hint: did you mean 'region'?)",
        'c.toml:7: accounts[0].name: "bad name" is not a valid account name '
        "(letters, digits, . _ -).",
        'c.toml:8: accounts[0].id: "123" is not a valid account id (exactly 12 digits).',
        'c.toml:16: accounts[1].roles[0].duration: "13h" is 13h; STS allows 15m to 12h.',
    ]


def test_toml_syntax_error_has_line_and_column() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse(b"version = 1\n[[accounts]\n", "c.toml")
    assert caught.value.line == 2
    assert caught.value.column is not None
    assert "not valid TOML" in caught.value.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            """
            [[accounts]]
            name = "a"
            id = 123456789012
            """,
            "must be a string of 12 digits",
        ),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            region = "mars-1"
            """,
            "is not an AWS region",
        ),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            roles = [{ name = "bad role!" }]
            """,
            "is not a valid IAM role name",
        ),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            roles = [{ name = "R", mfa_serial = "arn:aws:iam::1:mfa/x" }]
            """,
            "is not an MFA device ARN",
        ),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            roles = [{ name = "R", external_id = "x" }]
            """,
            "is not a valid external id",
        ),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            roles = [{ name = "R", session_name = "x" }]
            """,
            "can never render 2 or more valid characters",
        ),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            roles = [{ name = "R", session_name = "@nope" }]
            """,
            "there is no template",
        ),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            roles = [{ name = "R", source_identity = "aws:{user}" }]
            """,
            "may not start with 'aws:'",
        ),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            roles = [{ name = "R", session_name = "{user" }]
            """,
            "unmatched '{'",
        ),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            roles = [{ name = "R" }, { name = "r" }]
            """,
            "is already listed in this account",
        ),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            [[accounts]]
            name = "b"
            id = "000000000001"
            """,
            "account id 000000000001 is already used by accounts[0]",
        ),
        ("version = 2", "Cannot overwrite a value"),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            partition = "aws-cn"
            """,
            "does not match region us-east-1",
        ),
        (
            """
            [[accounts]]
            name = "a"
            id = "000000000001"
            roles = [{ name = "R", session_tags = { team = "x" }, transitive_tags = ["nope"] }]
            """,
            "is not one of this role's session_tags",
        ),
    ],
)
def test_invalid_values_are_refused(body: str, expected: str) -> None:
    assert any(expected in line for line in problems_of(body)), problems_of(body)


def test_unknown_version_is_refused() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse(b"version = 2\n", "c.toml")
    assert "schema version 2 is not supported" in caught.value.message
    with pytest.raises(CatalogueError, match="must start with `version = 1`"):
        parse(b"", "c.toml")


VIA_BODY = """
    [[accounts]]
    name = "hub"
    id = "000000000001"
      [[accounts.roles]]
      name = "Org"
      {hub_extra}

    [[accounts]]
    name = "spoke"
    id = "000000000002"
      [[accounts.roles]]
      name = "Admin"
      via = "{via}"
      {spoke_extra}
    """


def via_body(via: str = "hub/Org", hub_extra: str = "", spoke_extra: str = "") -> str:
    return VIA_BODY.format(via=via, hub_extra=hub_extra, spoke_extra=spoke_extra)


def test_via_by_account_id_is_normalised_to_names() -> None:
    catalogue = parse(catalogue_text(via_body(via="000000000001/org")), "c.toml")
    assert catalogue.resolve("spoke/Admin").via == "hub/Org"


def test_dangling_via_is_refused_with_a_suggestion() -> None:
    (line,) = problems_of(via_body(via="hub/Orgg"))
    assert 'via "hub/Orgg" names no role' in line
    assert "did you mean 'hub/Org'" in line
    assert line.startswith("c.toml:15: accounts[1].roles[0].via:")


def test_via_loops_are_refused() -> None:
    (line,) = problems_of(via_body(hub_extra='via = "spoke/Admin"'))
    assert "via chain loops: hub/Org → spoke/Admin → hub/Org" in line


def test_self_loop_is_refused() -> None:
    (line,) = problems_of(via_body(via="spoke/Admin"))
    assert "via chain loops: spoke/Admin → spoke/Admin" in line


def test_chained_role_over_one_hour_is_refused_before_any_aws_call() -> None:
    (line,) = problems_of(via_body(spoke_extra='duration = "2h"'))
    assert "2h is too long for a chained role (via hub/Org)" in line
    assert ".roles[0].duration" in line


def test_chained_role_inheriting_a_long_default_is_capped() -> None:
    body = '[defaults]\nduration = "8h"\n' + via_body()
    catalogue = parse(catalogue_text(body), "c.toml")
    assert catalogue.resolve("hub/Org").duration == 8 * 3600
    assert catalogue.resolve("spoke/Admin").duration == 3600


def test_three_hop_chain() -> None:
    body = via_body(hub_extra='via = "root/Base"') + (
        '\n[[accounts]]\nname = "root"\nid = "000000000003"\nroles = [{ name = "Base" }]\n'
    )
    catalogue = parse(catalogue_text(body), "c.toml")
    chain = catalogue.chain(catalogue.resolve("spoke/Admin"))
    assert [r.target for r in chain] == ["root/Base", "hub/Org", "spoke/Admin"]


class TestResolve:
    @pytest.fixture
    def catalogue(self) -> object:
        return parse(EXAMPLE.read_bytes(), str(EXAMPLE))

    @pytest.mark.parametrize(
        ("spec", "target"),
        [
            ("payments-prod/ReadOnly", "payments-prod/ReadOnly"),
            ("payments-prod/readonly", "payments-prod/ReadOnly"),
            ("111111111111/ReadOnly", "payments-prod/ReadOnly"),
            ("arn:aws:iam::111111111111:role/ops/Admin", "payments-prod/Admin"),
            ("analyst", "data-lake/Analyst"),
            ("prod admin", "payments-prod/Admin"),
            ("audit", "security-audit/Auditor"),
        ],
    )
    def test_forms(self, catalogue: object, spec: str, target: str) -> None:
        from rolecall.core.catalogue.model import Catalogue

        assert isinstance(catalogue, Catalogue)
        assert catalogue.resolve(spec).target == target

    def test_ambiguous_lists_candidates(self, catalogue: object) -> None:
        from rolecall.core.catalogue.model import Catalogue

        assert isinstance(catalogue, Catalogue)
        with pytest.raises(AmbiguousTarget) as caught:
            catalogue.resolve("readonly")
        assert caught.value.candidates == ["payments-prod/ReadOnly", "payments-dev/ReadOnly"]
        assert caught.value.exit_code == 2

    def test_nothing_matches(self, catalogue: object) -> None:
        from rolecall.core.catalogue.model import Catalogue

        assert isinstance(catalogue, Catalogue)
        with pytest.raises(TargetNotFound):
            catalogue.resolve("nothing-like-this")
        with pytest.raises(TargetNotFound):
            catalogue.resolve("arn:aws:iam::999999999999:role/X")


def test_search_requires_every_word() -> None:
    catalogue = parse(EXAMPLE.read_bytes(), str(EXAMPLE))
    assert [r.target for r in catalogue.search("payments readonly")] == [
        "payments-prod/ReadOnly",
        "payments-dev/ReadOnly",
    ]
    assert [r.target for r in catalogue.search("PAYMENTS 111111111111 admin")] == [
        "payments-prod/Admin"
    ]
    assert catalogue.search("payments nothing") == []
    assert len(catalogue.search("")) == len(catalogue)


class TestParsedCatalogueCache:
    def test_second_load_comes_from_the_cache(self, tmp_path: Path) -> None:
        path = tmp_path / "accounts.toml"
        path.write_bytes(EXAMPLE.read_bytes())
        cache = tmp_path / "cache"
        first = load(path, cache)
        (cache_file,) = (cache / "catalogues").glob("*.marshal")
        assert cache_file.stat().st_mode & 0o777 == 0o600
        assert cache_file.with_suffix(".roles").stat().st_mode & 0o777 == 0o600
        assert (cache / "catalogues").stat().st_mode & 0o777 == 0o700
        second = load(path, cache)
        assert second._index is not None, "served from the cache"
        assert second.roles == first.roles
        assert second.accounts == first.accounts
        assert second.session_names == first.session_names
        assert second.resolve("prod admin") == first.resolve("prod admin")

    def test_an_edit_invalidates_the_cache(self, tmp_path: Path) -> None:
        path = tmp_path / "accounts.toml"
        path.write_bytes(EXAMPLE.read_bytes())
        cache = tmp_path / "cache"
        load(path, cache)
        path.write_bytes(EXAMPLE.read_bytes().replace(b'name = "Analyst"', b'name = "Analyst2"'))
        os.utime(path, ns=(1, 1))
        assert load(path, cache).resolve("analyst").name == "Analyst2"

    @pytest.mark.parametrize("damage", [b"", b"\x00garbage", b"\xe3" * 10])
    def test_a_corrupt_cache_is_ignored_and_rewritten(self, tmp_path: Path, damage: bytes) -> None:
        path = tmp_path / "accounts.toml"
        path.write_bytes(EXAMPLE.read_bytes())
        cache = tmp_path / "cache"
        load(path, cache)
        (cache_file,) = (cache / "catalogues").glob("*.marshal")
        cache_file.write_bytes(damage)
        assert len(load(path, cache)) == 7
        assert load(path, cache)._index is not None

    @pytest.mark.parametrize("damage", ["truncate", "other-stamp", "missing", "loose"])
    def test_a_damaged_roles_file_is_a_miss(self, tmp_path: Path, damage: str) -> None:
        path = tmp_path / "accounts.toml"
        path.write_bytes(EXAMPLE.read_bytes())
        cache = tmp_path / "cache"
        expected = load(path, cache).roles
        (cache_file,) = (cache / "catalogues").glob("*.marshal")
        roles = cache_file.with_suffix(".roles")
        if damage == "truncate":
            roles.write_bytes(roles.read_bytes()[:40])
        elif damage == "other-stamp":
            roles.write_bytes(b"x" * 16 + roles.read_bytes()[16:])
        elif damage == "missing":
            roles.unlink()
        else:
            roles.chmod(0o644)
        loaded = load(path, cache)
        assert loaded._index is None, "re-parsed, not served from a damaged cache"
        assert loaded.roles == expected

    def test_an_over_permissive_cache_file_is_not_trusted(self, tmp_path: Path) -> None:
        path = tmp_path / "accounts.toml"
        path.write_bytes(EXAMPLE.read_bytes())
        cache = tmp_path / "cache"
        load(path, cache)
        (cache_file,) = (cache / "catalogues").glob("*.marshal")
        cache_file.chmod(0o644)
        assert load(path, cache)._index is None, "re-parsed, not read from a 0644 file"

    def test_an_invalid_catalogue_is_never_cached(self, tmp_path: Path) -> None:
        path = tmp_path / "accounts.toml"
        path.write_text("version = 1\n[[accounts]]\nname = 'x'\n")
        with pytest.raises(CatalogueError):
            load(path, tmp_path / "cache")
        assert not (tmp_path / "cache" / "catalogues").exists()

    def test_missing_file_is_a_sentence(self, tmp_path: Path) -> None:
        with pytest.raises(RolecallError, match="there is no catalogue at"):
            load(tmp_path / "missing.toml", tmp_path / "cache")


def test_narrowing_and_per_line_search_agree_with_a_full_search() -> None:
    catalogue = parse(EXAMPLE.read_bytes(), str(EXAMPLE))
    queries = ["p", "pa", "pay", "pay r", "pay re", "pay read", "1111", "x"]
    full = {q: catalogue.indexes(q) for q in queries}
    catalogue.prepare_for_typing()
    previous: list[int] | None = None
    for query in queries[:6]:
        narrowed = catalogue.indexes(query, within=previous)
        assert narrowed == full[query] == catalogue.indexes(query)
        previous = narrowed
    for query in queries:
        assert catalogue.indexes(query) == full[query]
