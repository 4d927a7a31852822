"""Writing TOML with tomlkit: set values in an existing document (comments and layout kept), or dump a mapping."""

from __future__ import annotations

from typing import Any

import tomlkit


def dump_toml(raw: dict) -> str:
    """A TOML document for a design mapping (scalars first, then tables; no comments)."""
    return tomlkit.dumps(raw)


def edit_toml(text: str, edits: dict[tuple[str, ...], Any]) -> str:
    """Set values at key paths in a TOML text, keeping its layout and comments.

    Existing keys get their value replaced (their trailing comment is kept);
    missing keys are added at the end of their table (a missing table is
    added).  Values: numbers or strings.  Raises tomlkit's errors for text it
    cannot parse, and ``TypeError`` where a path runs through a value that is
    not a table.
    """
    doc = tomlkit.parse(text)
    for path, value in edits.items():
        node: Any = doc
        for part in path[:-1]:
            if not isinstance(node, dict):
                raise TypeError(f"{'.'.join(path)}: {part!r} is not inside a table")
            if part not in node:
                node[part] = tomlkit.table()
            node = node[part]
        if not isinstance(node, dict):
            raise TypeError(f"{'.'.join(path)}: not inside a table")
        node[path[-1]] = value
    return tomlkit.dumps(doc)
