"""Console sign-in links: parameters, partitions, destinations, containers, failures."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolecall.core.console.browser import OneShotRedirect, browser_argv
from rolecall.core.console.url import (
    ConsoleError,
    TokenRequest,
    container_url,
    destination_url,
    federation_endpoint,
    login_url,
    logout_first,
    signin_token,
)
from rolecall.core.credentials import Credentials, Secret
from rolecall.core.errors import UsageError
from tests.aws import FakeFederation, free_port

CREDS = Credentials(
    access_key_id="ASIACANARYKEY0000001",
    secret_access_key=Secret("CANARYSECRETxxxxxxxx"),
    session_token=Secret("CANARYTOKENyyyyyyyyy"),
    expiration=datetime.now(UTC) + timedelta(hours=1),
)


@pytest.fixture
def federation() -> Iterator[FakeFederation]:
    fake = FakeFederation()
    yield fake
    fake.close()


def test_token_request_is_a_post_with_the_session_json(federation: FakeFederation) -> None:
    token = signin_token(TokenRequest(federation.url, CREDS, 3600))
    assert token == federation.token
    (fields,) = federation.requests
    assert fields["Action"] == "getSigninToken"
    assert json.loads(fields["Session"]) == {
        "sessionId": "ASIACANARYKEY0000001",
        "sessionKey": "CANARYSECRETxxxxxxxx",
        "sessionToken": "CANARYTOKENyyyyyyyyy",
    }
    assert fields["SessionDuration"] == "3600"
    assert federation.query_strings == [""], "no credentials in the URL"


def test_chained_sessions_send_no_session_duration(federation: FakeFederation) -> None:
    signin_token(TokenRequest(federation.url, CREDS, None))
    assert "SessionDuration" not in federation.requests[0]


def test_a_400_is_retried_once_without_session_duration(federation: FakeFederation) -> None:
    federation.reject_session_duration = True
    assert signin_token(TokenRequest(federation.url, CREDS, 43200)) == federation.token
    first, second = federation.requests
    assert first["SessionDuration"] == "43200"
    assert "SessionDuration" not in second


@pytest.mark.parametrize("mode", ["fail", "hang", "refused"])
def test_failures_are_sentences_without_secrets_or_urls(
    federation: FakeFederation, mode: str
) -> None:
    endpoint = federation.url
    if mode == "refused":
        endpoint = f"http://127.0.0.1:{free_port()}/federation"
    else:
        federation.mode = mode
    with pytest.raises(ConsoleError) as caught:
        signin_token(TokenRequest(endpoint, CREDS, 3600), timeout=0.5)
    text = f"{caught.value} {caught.value.hint} {caught.value!r} {caught.value.__cause__!r}"
    for canary in ("CANARY", "Session=", "sessionKey", "?"):
        assert canary not in text
    error = caught.value
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__, "no chained traceback"


@pytest.mark.parametrize(
    ("partition", "region", "endpoint"),
    [
        ("aws", "us-east-1", "https://signin.aws.amazon.com/federation"),
        ("aws", "eu-west-1", "https://eu-west-1.signin.aws.amazon.com/federation"),
        ("aws-us-gov", "us-gov-west-1", "https://signin.amazonaws-us-gov.com/federation"),
        ("aws-cn", "cn-north-1", "https://signin.amazonaws.cn/federation"),
    ],
)
def test_federation_endpoints(partition: str, region: str, endpoint: str) -> None:
    assert federation_endpoint(partition, region, {}) == endpoint
    override = {"ROLECALL_FEDERATION_ENDPOINT": "http://127.0.0.1:1/federation"}
    assert federation_endpoint(partition, region, override) == "http://127.0.0.1:1/federation"


@pytest.mark.parametrize("partition", ["aws-iso", "aws-iso-b", "aws-eusc"])
def test_other_partitions_are_refused(partition: str) -> None:
    with pytest.raises(ConsoleError, match=f"not supported in the {partition} partition"):
        federation_endpoint(partition, "us-iso-east-1", {})


@pytest.mark.parametrize(
    ("partition", "region", "destination", "url"),
    [
        (
            "aws",
            "eu-west-1",
            None,
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1",
        ),
        (
            "aws",
            "eu-west-1",
            "s3",
            "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1",
        ),
        ("aws", "eu-west-1", "iam", "https://console.aws.amazon.com/iam/home"),
        (
            "aws",
            "us-east-2",
            "logs",
            "https://us-east-2.console.aws.amazon.com/cloudwatch/home?region=us-east-2#logsV2:log-groups",
        ),
        (
            "aws",
            "us-east-1",
            "lambda",
            "https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1",
        ),
        (
            "aws",
            "us-east-1",
            "newservice",
            "https://us-east-1.console.aws.amazon.com/newservice/home?region=us-east-1",
        ),
        ("aws-cn", "cn-north-1", "ec2", "https://console.amazonaws.cn/ec2/home?region=cn-north-1"),
        (
            "aws-us-gov",
            "us-gov-west-1",
            None,
            "https://console.amazonaws-us-gov.com/console/home?region=us-gov-west-1",
        ),
        (
            "aws",
            "eu-west-1",
            "https://eu-west-1.console.aws.amazon.com/ec2/home#Instances:",
            "https://eu-west-1.console.aws.amazon.com/ec2/home#Instances:",
        ),
    ],
)
def test_destinations(partition: str, region: str, destination: str | None, url: str) -> None:
    assert destination_url(partition, region, destination) == url


@pytest.mark.parametrize(
    "bad",
    [
        "https://evil.example.com/console.aws.amazon.com",
        "https://console.aws.amazon.com.evil.io/",
        "S3!",
        "javascript:x",
    ],
)
def test_bad_destinations(bad: str) -> None:
    with pytest.raises(UsageError):
        destination_url("aws", "eu-west-1", bad)


def test_login_url_and_logout_first() -> None:
    url = login_url(
        "https://signin.aws.amazon.com/federation",
        "TOKEN/+=",
        "https://x.console.aws.amazon.com/a?b=c&d",
    )
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert query == {
        "Action": "login",
        "Issuer": "rolecall",
        "Destination": "https://x.console.aws.amazon.com/a?b=c&d",
        "SigninToken": "TOKEN/+=",
    }
    wrapped = logout_first(url, "aws")
    assert wrapped.startswith(
        "https://us-east-1.signin.aws.amazon.com/oauth?Action=logout&redirect_uri="
    )
    inner = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(wrapped).query))["redirect_uri"]
    assert inner == url


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(min_size=1, max_size=60),
    form=st.sampled_from(["granted", "open-url-in-container"]),
)
def test_container_urls_escape_hostile_names(name: str, form: str) -> None:
    url = "http://127.0.0.1:8000/one-shot?a=1&b=2"
    handoff = container_url(url, name, "red", form)
    scheme, _, query = handoff.partition(":")
    assert scheme in ("ext+granted-containers", "ext+container")
    fields = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    assert fields == {"name": name, "url": url, "color": "red", "icon": "briefcase"}
    assert " " not in query and "\n" not in query


def test_browser_template_never_splits_words() -> None:
    argv = browser_argv(["my browser", "--profile", "a b; rm -rf ~", "{url}"], "http://x/y z")
    assert argv == ["my browser", "--profile", "a b; rm -rf ~", "http://x/y z"]
    assert browser_argv(["firefox"], "http://x") == ["firefox", "http://x"]


def test_one_shot_redirect_answers_once() -> None:
    import urllib.error
    import urllib.request

    redirect = OneShotRedirect(
        "https://signin.aws.amazon.com/federation?Action=login&SigninToken=T"
    )
    with urllib.request.urlopen(redirect.url, timeout=5) as page:
        body = page.read().decode()
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "SigninToken=T" in body
    assert redirect.wait(1) is True
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(redirect.url, timeout=2)
