"""Session-name templates: placeholders, free variables, sanitising, the CloudTrail ARN."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolecall.core.errors import FreeVariableMissing, TemplateError
from rolecall.core.naming.session_name import (
    NameContext,
    RoleFacts,
    parse_template,
    render_session_name,
    render_source_identity,
    sanitise,
)

FACTS = RoleFacts(account="payments-prod", account_id="111111111111", role="Admin")
NOW = datetime(2026, 11, 27, 22, 43, 16, tzinfo=UTC)
VALID = re.compile(r"^[A-Za-z0-9_+=,.@-]{2,64}$")


def context(**kwargs: object) -> NameContext:
    base: dict[str, object] = {
        "user": "alice",
        "host": "laptop",
        "now": NOW,
        "rand": lambda: "a1b2c3",
    }
    base.update(kwargs)
    return NameContext(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("{user}@{host}", "alice@laptop"),
        ("{user}-{date}", "alice-20261127"),
        ("{time}", "224316"),
        ("{epoch}", str(int(NOW.timestamp()))),
        ("x-{rand}", "x-a1b2c3"),
        ("{account}.{role}", "payments-prod.Admin"),
        ("{account_id}", "111111111111"),
        ("{caller}", "alice-user"),
        ("oncall {user}!", "oncall-alice-"),
        ("a---b", "a-b"),
        ("élan-{user}", "-lan-alice"),
    ],
)
def test_render(template: str, name: str) -> None:
    rendered = render_session_name(template, FACTS, context(caller="alice-user"))
    assert rendered.name == name
    assert rendered.arn == f"arn:aws:sts::111111111111:assumed-role/Admin/{name}"


def test_partition_and_no_path_in_the_assumed_role_arn() -> None:
    facts = RoleFacts(account="gov", account_id="222222222222", role="Ops", partition="aws-us-gov")
    rendered = render_session_name("{user}", facts, context())
    assert rendered.arn == "arn:aws-us-gov:sts::222222222222:assumed-role/Ops/alice"


def test_free_variables() -> None:
    template = parse_template("{user}-{ticket}-{env}")
    assert template.free_variables == ("ticket", "env")
    with pytest.raises(FreeVariableMissing) as caught:
        render_session_name(template, FACTS, context(variables={"env": "prod"}))
    assert caught.value.names == ["ticket"]
    assert "--var ticket=..." in (caught.value.hint or "")
    rendered = render_session_name(
        template, FACTS, context(variables={"ticket": "INC 1234", "env": "prod"})
    )
    assert rendered.name == "alice-INC-1234-prod"


def test_cut_to_64() -> None:
    rendered = render_session_name("{user}", FACTS, context(user="u" * 100))
    assert rendered.name == "u" * 64


def test_too_short_is_an_error() -> None:
    with pytest.raises(TemplateError, match="is not valid"):
        render_session_name("{user}", FACTS, context(user="é"))


def test_caller_must_be_known() -> None:
    with pytest.raises(TemplateError, match="caller"):
        render_session_name("{caller}-x", FACTS, context())


@pytest.mark.parametrize("bad", ["{user", "user}", "{}", "{1x}", "{a-b}"])
def test_bad_templates(bad: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(bad)


def test_source_identity() -> None:
    assert render_source_identity("{user}", FACTS, context()) == "alice"
    # ':' is outside the alphabet, so a rendered value can never start with "aws:".
    assert render_source_identity("aws:{user}", FACTS, context()) == "aws-alice"


def test_sanitise_is_ascii_only() -> None:
    assert sanitise("名前-ａｂｃ") == "-"
    assert sanitise("a\u00a0b") == "a-b"


@settings(max_examples=500, deadline=None)
@given(
    template=st.lists(
        st.sampled_from([*"ab-_.@ {}", "{user}", "{x}", "{rand}", "é", "\x1b"]), max_size=30
    ).map("".join),
    user=st.text(max_size=80),
    host=st.text(max_size=80),
    value=st.text(min_size=1, max_size=100),
)
def test_every_rendered_name_is_valid(template: str, user: str, host: str, value: str) -> None:
    try:
        parsed = parse_template(template)
        rendered = render_session_name(
            parsed,
            FACTS,
            context(user=user, host=host, variables=dict.fromkeys(parsed.free_variables, value)),
        )
    except TemplateError:
        return
    assert VALID.match(rendered.name)
    assert rendered.arn.endswith("/" + rendered.name)


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=200))
def test_sanitised_values_never_hold_invalid_characters(value: str) -> None:
    out = sanitise(value)
    assert len(out) <= 64
    assert re.fullmatch(r"[A-Za-z0-9_+=,.@-]*", out)
    assert "--" not in out
