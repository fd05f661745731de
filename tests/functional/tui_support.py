"""Building the TUI for Pilot tests: a workspace on loopback STS, a clock, a recorder."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from rolecall.core.catalogue.store import load
from rolecall.core.locations import Locations
from rolecall.core.workspace import Workspace
from rolecall.ui.app import RolecallApp, make_app
from tests.aws import write_aws_config
from tests.conftest import EXAMPLE, isolated_env

START = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Launches:
    """Records every child the app starts (argv and environment) instead of running it."""

    def __init__(self, status: int = 0) -> None:
        self.calls: list[tuple[list[str], dict[str, str]]] = []
        self.status = status

    def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> int:
        self.calls.append((list(argv), dict(env)))
        return self.status


def build_app(
    tmp: Path,
    sts_url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    catalogue: Path = EXAMPLE,
    clock: FakeClock | None = None,
    launches: Launches | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> RolecallApp:
    """The app over `catalogue`, talking to STS at `sts_url`, with a fake clock."""
    env = isolated_env(tmp)
    write_aws_config(Path(env["AWS_CONFIG_FILE"]))
    env["AWS_ENDPOINT_URL_STS"] = sts_url
    env["SHELL"] = "/bin/test-shell"
    env.update(extra_env or {})
    for key, value in env.items():  # boto3 reads the process environment
        monkeypatch.setenv(key, value)
    locations = Locations.from_env(env)
    the_clock = clock or FakeClock(datetime.now(UTC).replace(microsecond=0))
    workspace = Workspace(
        load(catalogue, locations.cache_dir),
        locations,
        env,
        client_settings={
            "connect_timeout": 1,
            "read_timeout": 1,
            "retries": {"mode": "standard", "total_max_attempts": 1},
        },
        launcher=launches or Launches(),
        clock=the_clock,
        user="alice",
        host="laptop",
    )
    return make_app(workspace, clock=the_clock, tick_seconds=3600)


def app_without_a_browser(
    tmp: Path, sts_url: str, monkeypatch: pytest.MonkeyPatch, federation_url: str
) -> RolecallApp:
    """An app outside tmux whose configured browser cannot start, so console links go to the
    TUI's link dialog; sign-in links come from `federation_url`."""
    monkeypatch.delenv("TMUX", raising=False)
    config = tmp / "rolecall" / "config"
    config.mkdir(parents=True)
    missing = tmp / "no-such-browser"
    (config / "config.toml").write_text(f'[console]\nbrowser = ["{missing}", "{{url}}"]\n')
    return build_app(
        tmp, sts_url, monkeypatch, extra_env={"ROLECALL_FEDERATION_ENDPOINT": federation_url}
    )


def app_of(pilot: Pilot[Any]) -> RolecallApp:
    """The pilot's app, typed."""
    app = pilot.app
    assert isinstance(app, RolecallApp)
    return app


async def until(pilot: Pilot[Any], condition: Callable[[], bool], seconds: float = 10) -> None:
    """Let the app run until `condition()` holds (or fail after `seconds`)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the app never reached the expected state")


def screen_lines(app: RolecallApp) -> list[str]:
    """The composited screen as text, modals over what is below, one string per line."""
    from textual._compositor import LayoutUpdate

    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    assert isinstance(update, LayoutUpdate)
    return [
        "".join(segment.text for strip in strips for segment in strip) for strips in update.strips
    ]


def another_process(app: RolecallApp) -> Workspace:
    """A second workspace on the same files: what another rolecall process sees and does."""
    workspace = app.workspace
    return Workspace(
        workspace.catalogue,
        workspace.locations,
        workspace.env,
        client_settings=workspace.assumer.client_settings,
        launcher=Launches(),
        clock=workspace.clock,
        user="alice",
        host="laptop",
    )
