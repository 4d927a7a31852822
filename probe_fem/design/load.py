"""Reading a design: TOML as data (never code) → unit conversion → validation → consistency checks."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from probe_fem.design.messages import _user_field, format_errors
from probe_fem.design.schema import RULES_ERROR, Design, DesignError
from probe_fem.errors import InputError
from probe_fem.io import check_depth, parse_toml, read_text
from probe_fem.units import to_si, to_si_checked


def _checks_beside(err: ValidationError, si: dict[str, Any], given: dict) -> list[str]:
    """The consistency checks that do not involve the fields with a type or range error.

    The invalid values are replaced by the reference design's (only to run the other checks; a material
    of the user's own gets the reference's Au film values, an invalid [mesh] table is left out); messages
    that name a replaced field are dropped, so every other problem is still reported.
    """
    reference, _ = to_si(tomllib.loads(embedded_design_path().read_text(encoding="utf-8")))
    for name in si.get("materials", {}) if isinstance(si.get("materials"), dict) else {}:
        reference["materials"].setdefault(name, reference["materials"]["au_film"])
    patched = copy.deepcopy(si)
    replaced: set[str] = set()
    for _ in range(3):  # a replaced section can reveal errors inside it
        for e in err.errors():
            loc = tuple(e["loc"])
            replaced.add(_user_field(loc, given)[0])
            if not _patch(patched, reference, loc):
                return []
        try:
            Design.model_validate(patched, context={"given": given})
            return []
        except ValidationError as again:
            rules = [m for e in again.errors() if e["type"] == RULES_ERROR for m in e["ctx"]["messages"]]
            if rules or not again.errors():
                return [m for m in rules if not any(m.startswith(r) for r in replaced)]
            err = again
    return []


def _patch(patched: dict[str, Any], reference: dict[str, Any], loc: tuple) -> bool:
    """Replace the value at ``loc`` by the reference's (or drop it, or the optional [mesh]); False if impossible."""
    if loc[0] == "mesh":
        patched.pop("mesh", None)
        return True
    src: Any = reference
    dst: Any = patched
    for part in loc[:-1]:
        src = src.get(part, {}) if isinstance(src, dict) else {}
        dst = dst.setdefault(part, {}) if isinstance(dst, dict) else None
    if not isinstance(dst, dict) or not isinstance(src, dict):
        return False
    if loc[-1] in src:
        dst[loc[-1]] = copy.deepcopy(src[loc[-1]])
    else:
        dst.pop(loc[-1], None)
    return True


def parse_design(raw: dict[str, Any], source: str = "design") -> Design:
    """Validate a design mapping (as read from TOML, with unit-suffixed keys).

    Raises :class:`DesignError` listing every problem: a length given in two units, type and range
    errors, and the consistency rules that do not involve those fields."""
    check_depth(raw, lambda message: DesignError([message], source))
    si, given, twice = to_si_checked(raw)
    try:
        design = Design.model_validate(si, context={"given": given})
    except ValidationError as exc:
        rules_only = all(e["type"] == RULES_ERROR for e in exc.errors())
        beside = [] if rules_only else _checks_beside(exc, si, given)
        raise DesignError(twice + format_errors(exc, given) + beside, source) from None
    if twice:
        raise DesignError(twice, source)
    return design


def embedded_design_path(name: str = "ntistp") -> Path:
    """Path of a design shipped inside the package (works for non-editable installs)."""
    return Path(str(resources.files("probe_fem.design") / "data" / f"{name}.toml"))


def load_design(path: str | Path | None = None) -> Design:
    """Read and validate a TOML design file; ``None`` loads the embedded NTISTP design.

    Raises :class:`DesignError` (a ``ValueError``) listing every problem found.
    Loading never executes code: TOML is parsed as data only.
    """
    p = embedded_design_path() if path is None else Path(path)
    return parse_design(read_toml(p, DesignError), str(p))


def read_toml(p: Path, error: type[InputError]) -> dict[str, Any]:
    """Parse a TOML file as data, raising ``error`` (one message) if it cannot be read or parsed
    (not UTF-8, not TOML, nested too deeply, an integer too long to convert)."""

    def fail(message: str) -> InputError:
        return error([message], str(p))

    return parse_toml(read_text(p, fail), fail)
