"""Catalogue TOML text for a catalogue document, in one fixed layout.

Every account is an `[[accounts]]` table and every role an `[[accounts.roles]]` table, so that
an import's output is stable and a merge gives a small diff.
"""

from __future__ import annotations

from typing import Any


def render(document: dict[str, Any]) -> str:
    """Catalogue TOML for `document`, values written by tomli-w.

    The layout is fixed rather than left to tomli-w's heuristics, which write an array of
    small tables inline and switch to `[[...]]` once one of them grows: every account is an
    `[[accounts]]` table and every role an `[[accounts.roles]]` table, always, so that adding
    one long role never rewrites its neighbours.
    """
    import tomli_w

    top = {key: value for key, value in document.items() if key != "accounts"}
    parts = [tomli_w.dumps(top)]
    for account in document.get("accounts", []):
        parts.append("\n[[accounts]]\n")
        parts.append(_body({k: v for k, v in account.items() if k != "roles"}))
        for role in account.get("roles", []):
            parts.append("\n[[accounts.roles]]\n")
            parts.append(_body(role))
    return "".join(parts)


def _body(table: dict[str, Any]) -> str:
    import tomli_w

    lines = []
    for key, value in table.items():
        if isinstance(value, dict):
            # Inline, like a hand-written `session_tags = { team = "payments" }`.
            pairs = ", ".join(tomli_w.dumps({k: v}).rstrip("\n") for k, v in value.items())
            name = tomli_w.dumps({key: 0}).rsplit(" = ", 1)[0]
            lines.append(f"{name} = {{ {pairs} }}\n" if pairs else f"{name} = {{}}\n")
        else:
            lines.append(tomli_w.dumps({key: value}))
    return "".join(lines)
