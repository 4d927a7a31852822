"""The reference of the design file's keys, generated from the schema (``docs/designs.md``).

Every section of :class:`~probe_fem.design.schema.Design` becomes a table: the key as a file writes it
(a length takes a unit suffix: ``_m``, ``_mm``, ``_um`` or ``_nm``), whether it is required, its allowed
range in SI units and its default.  A test regenerates the page and compares it with the committed one,
so a key cannot be added without its documentation.
"""

from __future__ import annotations

import inspect
import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from probe_fem.design.messages import field_bounds, interval_text
from probe_fem.design.schema import Design, Material
from probe_fem.units import key_unit

HEADER = """# Design file keys

Generated from the schema by `python -m probe_fem.cli.reference` (a test checks that it is current).
A design is a TOML file; [`geometry/ntistp.toml`](../geometry/ntistp.toml) is the reference.
Lengths carry their unit in the key: `length_um = 17.056` or `length_nm = 17056` (`_m`, `_mm`, `_um`, `_nm`);
ranges below are in SI units. Besides the ranges, the design's rules across fields (films thinner
than the body, a tip that fits on it, legs that reach it, ...) are checked when a file is loaded, each
problem named with the key as written (`probe_fem/design/rules.py`).
"""


def _written(name: str) -> str:
    return f"{name[:-2]}_<unit>" if name.endswith("_m") else name


def _type(annotation: Any) -> str:
    """'number', 'text', one of the literal values, or the section's name."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, types.UnionType) and len(args) == 1:
        return _type(args[0])
    if get_origin(annotation) is Literal:
        return " \\| ".join(f"`{v!r}`".replace("'", '"') for v in get_args(annotation))
    base = args[0] if get_origin(annotation) is not None and args else annotation
    if get_origin(annotation) is dict:
        return "table of " + _type(get_args(annotation)[1])
    return {float: "number", int: "integer", str: "text"}.get(base, getattr(base, "__name__", str(base)))


def _row(name: str, info: Any) -> str:
    unit = "m" if name.endswith("_m") else key_unit(name)
    required = info.is_required()
    default = "" if required or info.default in (PydanticUndefined, None) else repr(info.default)
    if isinstance(info.default, BaseModel):
        default = "(section defaults)"
    allowed = interval_text(*field_bounds(info), unit=unit).removeprefix("allowed ")
    need = "required" if required else "optional"
    return f"| `{_written(name)}` | {_type(info.annotation)} | {need} | {allowed} | {default} |"


def _section(title: str, model: type[BaseModel]) -> list[str]:
    doc = inspect.cleandoc(model.__doc__ or "")
    lines = [f"## `{title}`", "", doc, "", "| key | type | | allowed | default |", "|---|---|---|---|---|"]
    lines += [_row(name, info) for name, info in model.model_fields.items()]
    return [*lines, ""]


def design_reference() -> str:
    """The markdown page of every design key."""
    lines = [HEADER, "## top level", "", "| key | type | | allowed | default |", "|---|---|---|---|---|"]
    sections = []
    for name, info in Design.model_fields.items():
        inner = [a for a in (info.annotation, *get_args(info.annotation)) if isinstance(a, type)]
        model = next((a for a in inner if issubclass(a, BaseModel)), None)
        if model is None:
            lines.append(_row(name, info))
        else:
            sections.append((name, model))
    lines.append("")
    for name, model in sections:
        lines += _section(name, model)
    lines += _section("materials.<name>", Material)
    return "\n".join(lines).rstrip() + "\n"
