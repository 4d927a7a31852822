"""Error messages for every input file: the field as the user wrote it, its value and the allowed range."""

from __future__ import annotations

from typing import Any, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, ValidationError

from probe_fem.design.schema import RULES_ERROR, Design
from probe_fem.units import UNIT_FACTORS, key_unit


def _user_field(loc: tuple, given: dict) -> tuple[str, str, float]:
    """Dotted key as the user wrote it, its value as written, and the unit factor."""
    if loc in given:
        key, value = given[loc]
        unit = key.rpartition("_")[2]
        return ".".join(map(str, (*loc[:-1], key))), repr(value), UNIT_FACTORS[unit]
    return ".".join(map(str, loc)), "", 1.0


def interval_text(
    lo: float | None, hi: float | None, lo_open: bool = True, hi_open: bool = True, factor: float = 1.0, unit: str = ""
) -> str:
    """'allowed (0, 1000] um': an interval in the user's unit (values divided by ``factor``)."""
    if lo is None and hi is None:
        return ""
    left = ("(" if lo_open else "[") + (f"{lo / factor:g}" if lo is not None else "-inf")
    right = (f"{hi / factor:g}" if hi is not None else "inf") + (")" if hi_open else "]")
    return f"allowed {left}, {right}{(' ' + unit) if unit else ''}"


def field_bounds(info: Any) -> tuple[float | None, float | None, bool, bool]:
    """(lo, hi, lo_open, hi_open) from the Gt/Ge/Lt/Le metadata of a pydantic field, optional or not."""
    lo: float | None = None
    hi: float | None = None
    lo_open = hi_open = True

    def walk(a: Any) -> None:
        nonlocal lo, hi, lo_open, hi_open
        for m in [*getattr(a, "__metadata__", ()), *getattr(a, "metadata", ())]:
            for c in getattr(m, "metadata", [m]):
                if isinstance(c, at.Gt):
                    lo = float(c.gt)  # type: ignore[arg-type]  # bounds in this package are numbers
                elif isinstance(c, at.Ge):
                    lo, lo_open = float(c.ge), False  # type: ignore[arg-type]
                elif isinstance(c, at.Lt):
                    hi = float(c.lt)  # type: ignore[arg-type]
                elif isinstance(c, at.Le):
                    hi, hi_open = float(c.le), False  # type: ignore[arg-type]
        for arg in get_args(a):
            walk(arg)

    walk(info)
    walk(getattr(info, "annotation", None))
    return lo, hi, lo_open, hi_open


def _inner(annotation: Any, part: Any) -> Any:
    """The annotation one step into ``annotation`` at ``part``: a model's field, a dict's value, a list's item
    (through ``X | None``); None if there is none."""
    for a in (annotation, *get_args(annotation)):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a.model_fields.get(part) if isinstance(part, str) else None
        if (get_origin(a) is dict and isinstance(part, str)) or (get_origin(a) is list and isinstance(part, int)):
            return get_args(a)[-1]
    return None


def range_at(model: type[BaseModel], loc: tuple, factor: float = 1.0, unit: str = "") -> str:
    """'allowed (0, 1000] um' for the field at a validation error's ``loc`` (sections, tables, list items)."""
    info: Any = model
    for part in loc:
        info = _inner(getattr(info, "annotation", info), part)
        if info is None:
            return ""
    return interval_text(*field_bounds(info), factor=factor, unit=unit)


def _range_text(model: type[BaseModel], loc: tuple, factor: float, unit: str) -> str:
    """'allowed (0, 1000] um' for the field at ``loc``."""
    return range_at(model, loc, factor, unit)


def _shown(field: str) -> str:
    """A field as a user writes it: lengths with their unit choice."""
    return f"{field[:-2]}_um|nm" if field.endswith("_m") else field


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the section at ``loc`` (empty if ``loc`` is not a section)."""
    cls: Any = model
    for part in loc:
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or part not in cls.model_fields:
            return []
        cls = cls.model_fields[part].annotation
    return list(cls.model_fields) if isinstance(cls, type) and issubclass(cls, BaseModel) else []


NAME_RULE = "allowed letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64 (a file name)"


def format_errors(err: ValidationError, given: dict) -> list[str]:
    """One message per pydantic error: the key as the user wrote it, its value, the allowed range."""
    out = []
    for e in err.errors():
        if e["type"] == RULES_ERROR:  # the model's rules: already one message each
            out.extend(e["ctx"]["messages"])
            continue
        loc = tuple(e["loc"])
        path, value, factor = _user_field(loc, given)
        unit = given[loc][0].rpartition("_")[2] if loc in given else key_unit(str(loc[-1]))
        if e["type"] == "missing":
            hint = " (give a unit, e.g. " + str(loc[-1])[:-2] + "_um)" if str(loc[-1]).endswith("_m") else ""
            out.append(f"{path}: missing required field{hint}")
        elif e["type"] == "extra_forbidden":
            known = _fields_at(Design, loc[:-1])
            hint = (
                f" (lengths need a unit suffix, e.g. {loc[-1]}_um)"
                if f"{loc[-1]}_m" in known
                else f" (allowed: {', '.join(_shown(k) for k in known)})"
                if known
                else ""
            )
            out.append(f"{path}: unknown key{hint}")
        else:
            shown = value or repr(e.get("input"))
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            if e["type"] == "string_pattern_mismatch":
                out.append(f"{path} = {shown}: {NAME_RULE}")
                continue
            rng = _range_text(Design, loc, factor, unit)
            out.append(f"{path} = {shown}: {e['msg'].lower()}" + (f" ({rng})" if rng else ""))
    return out
