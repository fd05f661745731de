"""Where keys are written: dotted key paths (`accounts[3].roles[1].duration`) and their lines.

tomllib gives no positions, so problems find their line through a light scanner of the TOML
text. Part of the validator: only imported on a cache miss or by `rolecall check`.
"""

from __future__ import annotations

import re

from rolecall.core.text import inert


def toml_position(message: str) -> tuple[str, int, int | None]:
    """`(message, line, column)` from a `TOMLDecodeError` text (line 1 when it names none)."""
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        return message[: match.start()], int(match.group(1)), int(match.group(2))
    match = re.search(r"\s*\(at end of document\)$", message)
    if match:
        return message[: match.start()], 1, None
    return message, 1, None


# One token of TOML text, for `overlong_key`. The alternatives are tried in order (multi-line
# strings before the one-line ones they start like); every repetition is possessive and its
# branches start with different characters, so a match never backtracks.
_TOKEN = re.compile(
    r"""
      "{3}(?:[^"\\]|\\.|"(?!""))*+"{3,5}         # a multi-line basic string
    | '{3}(?:[^']|'(?!''))*+'{3,5}               # a multi-line literal string
    | (?P<part>[A-Za-z0-9_-]++                   # a key part (or a word of a value)
      | "(?:[^"\\\n]|\\.)*+"
      | '[^'\n]*+')
    | (?P<dot>\.)
    | [ \t]++                                    # spaces and tabs keep a dotted key going
    | \#[^\n]*+                                  # a comment
    | [^A-Za-z0-9_\-"'.\# \t]++                  # anything else ends a key
    | .                                          # an unclosed string: its quote alone
    """,
    re.VERBOSE | re.DOTALL,
)


def overlong_key(text: str, limit: int) -> int | None:
    """The line of the first key with more than `limit` dotted parts, or None.

    tomllib keeps every prefix of a dotted key (`a.b.b.b...`), so one 64 KiB line of them
    costs gigabytes: such keys are refused before it parses. Bare and quoted keys, table
    headers and keys inside inline tables are all dot-joined parts outside strings and
    comments; a TOML value never has more than two (`1.5`, `00:32:00.999`). Linear: each
    token is matched once, without backtracking. The caller skips it when the text has too
    few dots to hold such a key.
    """
    parts = 0  # of the dotted key being read
    after_dot = False
    position, end = 0, len(text)
    while position < end:
        token = _TOKEN.match(text, position)
        assert token is not None  # the last alternatives match any character
        if token.lastgroup == "part":
            parts = parts + 1 if after_dot else 1
            after_dot = False
            if parts > limit:
                return text.count("\n", 0, position) + 1
        elif token.lastgroup == "dot":
            after_dot = parts > 0 and not after_dot
            if not after_dot:
                parts = 0
        elif text[position] not in " \t":
            parts, after_dot = 0, False
        position = token.end()
    return None


def join_key(key: str, name: str) -> str:
    """`key.name`, with `name` quoted as TOML writes it when it is not a bare key."""
    if re.fullmatch(r"[A-Za-z0-9_-]+", name):
        part = name
    else:  # quoted, as TOML writes it; "" for an empty key
        part = '"' + inert(name[:60]).replace('"', '\\"') + '"'
    return f"{key}.{part}" if key else part


def key_lines(text: str) -> dict[str, int]:
    """Map dotted key paths to the 1-based line that defines them.

    tomllib gives no positions, so this is a light line scanner that understands the shapes a
    hand-written catalogue uses: `[table]`, `[[array.of.tables]]` and `key = value` lines.
    Keys inside inline tables fall back to their parent's line. It only ever affects which
    line a problem names, never whether the catalogue is valid.
    """
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    in_multiline: str | None = None
    assign = re.compile(r"[ \t]*([A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*')[ \t]*=")
    # TOML lines end at \n only: str.splitlines would also split at U+2028, U+0085, ...
    for number, line in enumerate(text.split("\n"), start=1):
        if in_multiline is not None:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        header = _header(line)
        if header is not None:
            double, parts = header
            path = ""
            for part in parts[:-1]:
                path = join_key(path, part)
                if path in counts:
                    path = f"{path}[{counts[path] - 1}]"
            path = join_key(path, parts[-1])
            if double:
                lines.setdefault(path, number)
                counts[path] = counts.get(path, 0) + 1
                path = f"{path}[{counts[path] - 1}]"
            lines.setdefault(path, number)
            table = path
            continue
        match = assign.match(line)
        if match:
            lines.setdefault(join_key(table, _key_text(match.group(1))), number)
            value = line[match.end() :].lstrip()
            for quote in ('"""', "'''"):
                if value.startswith(quote) and quote not in value[3:]:
                    in_multiline = quote
    return lines


def _header(line: str) -> tuple[bool, list[str]] | None:
    """`(is_array_of_tables, key parts)` for a table header line, else None (no regex: a
    backtracking pattern here was cubic on hostile lines)."""
    stripped = line.strip()
    if not stripped.startswith("["):
        return None
    double = stripped.startswith("[[")
    close = stripped.find("]]" if double else "]")
    if close == -1:
        return None
    rest = stripped[close + (2 if double else 1) :].strip()
    if rest and not rest.startswith("#"):
        return None
    inside = stripped[2 if double else 1 : close].strip()
    if not inside:
        return None
    return double, [_key_text(p.strip()) for p in inside.split(".")]


def _key_text(key: str) -> str:
    """A key as tomllib reads it: quotes removed, escapes decoded."""
    if key.startswith('"') and "\\" in key:
        import tomllib

        try:
            return next(iter(tomllib.loads(f"{key} = 0")))
        except (tomllib.TOMLDecodeError, StopIteration):
            return key.strip('"')
    return key.strip("\"'")


def deepest_line(text: str) -> int:
    """The line on which `[`/`{` nesting (outside strings and comments) first gets deepest.

    tomllib gives no position when nesting exhausts its recursion, so a problem there would
    otherwise be reported at line 1. One pass, no backtracking.
    """
    depth = deepest = 0
    line = where = 1
    index, size = 0, len(text)
    while index < size:
        char = text[index]
        if char == "\n":
            line += 1
        elif char == "#":
            end = text.find("\n", index)
            index = size if end < 0 else end
            continue
        elif char in "\"'":
            triple = text.startswith(char * 3, index)
            closing = char * 3 if triple else char
            scan = index + len(closing)
            while True:
                end = text.find(closing, scan)
                if end < 0 or char == "'" or text[end - 1] != "\\" or _escaped_backslash(text, end):
                    break
                scan = end + 1
            stop = size if end < 0 else end + len(closing)
            if not triple:  # a one-line string never crosses a newline
                newline = text.find("\n", index + 1)
                if 0 <= newline < stop:
                    stop = newline
            line += text.count("\n", index, stop)
            index = stop
            continue
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, line
        elif char in "]}":
            depth = max(depth - 1, 0)
        index += 1
    return where


def _escaped_backslash(text: str, quote: int) -> bool:
    """Whether the backslashes just before `text[quote]` are an even run (the quote ends)."""
    run = 0
    while quote - run - 1 >= 0 and text[quote - run - 1] == "\\":
        run += 1
    return run % 2 == 0
