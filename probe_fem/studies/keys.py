"""Design keys: dotted keys *as written in a design file* (``"body.length_um"``), resolved and edited.

A study or a fit varies numbers of a base design's raw TOML mapping, in the
units the file uses; :func:`resolve_key` finds a key (naming what is wrong if
it is not there), :func:`apply_overrides` sets new values in a copy, and
:func:`field_errors` checks one changed value against the design's field ranges.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from pydantic import ValidationError

from probe_fem.design.messages import format_errors
from probe_fem.design.schema import RULES_ERROR, Design
from probe_fem.errors import InputError
from probe_fem.units import key_unit, split_unit, to_si

__all__ = ["apply_overrides", "field_errors", "key_unit", "resolve_key"]


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def resolve_key(raw: dict, key: str) -> tuple[tuple[str, ...], float]:
    """Path and value of a numeric key of a raw design, dotted as written (``"body.length_um"``).

    Raises ``ValueError`` with a message naming what is wrong (a missing
    section, a different unit suffix in the file, a non-numeric value, ...).
    """
    parts = tuple(key.split("."))
    if len(parts) < 2 or not all(parts):
        raise InputError(f"{key!r}: give a dotted key as written in the design file, e.g. body.length_um")
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
            have = sorted(k for k, v in node.items() if isinstance(v, dict)) if isinstance(node, dict) else []
            where = ".".join(parts[: i + 1])
            raise InputError(
                f"{key}: the base design has no section [{where}]" + (f" (sections: {', '.join(have)})" if have else "")
            )
        node = node[part]
    last = parts[-1]
    if last not in node:
        parsed = split_unit(last)
        if parsed:
            for other in node:
                p2 = split_unit(other)
                if p2 and p2[0] == parsed[0]:
                    raise InputError(
                        f"{key}: the base design writes this length as "
                        f"{'.'.join((*parts[:-1], other))}; use that key (units as in the file)"
                    )
        numeric = sorted(k for k, v in node.items() if _numeric(v))
        close = difflib.get_close_matches(last, numeric, n=1)
        hint = f"; did you mean {'.'.join((*parts[:-1], close[0]))}?" if close else ""
        raise InputError(
            f"{key}: unknown key (numeric keys of [{'.'.join(parts[:-1])}]: {', '.join(numeric) or 'none'}){hint}"
        )
    if not _numeric(node[last]):
        raise InputError(f"{key} = {node[last]!r} in the base design: not a number; only numbers can vary")
    return parts, float(node[last])


def apply_overrides(raw: dict, overrides: dict[str, float]) -> dict:
    """A deep copy of a raw design with dotted keys (as written) set to new values."""
    out = copy.deepcopy(raw)
    for key, value in overrides.items():
        node = out
        *head, last = key.split(".")
        for part in head:
            node = node[part]
        node[last] = float(value)
    return out


def field_errors(raw: dict, key: str, value: float) -> list[str]:
    """Field-range problems (pydantic) of the base design with one value changed; consistency not checked."""
    si, given = to_si(apply_overrides(raw, {key: value}))
    try:
        Design.model_validate(si)
    except ValidationError as exc:
        if any(e["type"] == RULES_ERROR for e in exc.errors()):  # the fields are valid; the rules run per point
            return []
        return format_errors(exc, given)
    return []
