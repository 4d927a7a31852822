"""Unit suffixes at the edge of the program.

Input files name lengths and pressures with an explicit unit suffix (``thickness_nm = 70``,
``length_um = 14``, ``pressure_mbar = 1e-3``).  :func:`to_si` rewrites every such key to its SI twin
(``thickness_m = 7e-08``) and remembers what the user wrote, so that error
messages can quote the user's own key and value.  Inside the code every length
is in metres.
"""

from __future__ import annotations

from typing import Any

from probe_fem.errors import InputError

LENGTH_UNITS: dict[str, float] = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "nm": 1e-9}


PRESSURE_UNITS: dict[str, float] = {"Pa": 1.0, "kPa": 1e3, "mbar": 100.0, "Torr": 101325.0 / 760.0, "atm": 101325.0}
UNIT_FACTORS: dict[str, float] = LENGTH_UNITS | PRESSURE_UNITS  # to SI, by key suffix


def split_pressure(key: str) -> tuple[str, str] | None:
    """``'pressure_mbar'`` -> ``('pressure', 'mbar')``; ``None`` if the key has no pressure unit."""
    stem, _, unit = key.rpartition("_")
    if stem and unit in PRESSURE_UNITS:
        return stem, unit
    return None


def _si_twin(key: str) -> tuple[str, str, str] | None:
    """(stem, unit, SI key) of a unit-suffixed key: ``height_um`` → ``height_m``, ``p_mbar`` → ``p_Pa``."""
    if parsed := split_unit(key):
        return parsed[0], parsed[1], f"{parsed[0]}_m"
    if parsed := split_pressure(key):
        return parsed[0], parsed[1], f"{parsed[0]}_Pa"
    return None


def split_unit(key: str) -> tuple[str, str] | None:
    """``'height_um'`` -> ``('height', 'um')``; ``None`` if the key has no length unit."""
    stem, _, unit = key.rpartition("_")
    if stem and unit in LENGTH_UNITS:
        return stem, unit
    return None


UNIT_TEXT = {  # other units, by key suffix (the longest first): materials, source, sink, measured, angles
    "K_per_W": "K/W",
    "uV_per_K": "µV/K",
    "W_mK": "W/(m·K)",
    "kg_m3": "kg/m³",
    "J_kgK": "J/(kg·K)",
    "deg": "°",
    "W": "W",
    "K": "K",
}


def key_unit(key: str) -> str:
    """Unit text of a dotted design key from its suffix: ``body.length_um`` → ``um``, ``…k_W_mK`` → ``W/(m·K)``."""
    last = key.rpartition(".")[2]
    parsed = split_unit(last) or split_pressure(last)
    if parsed:
        return parsed[1]
    for suffix, text in UNIT_TEXT.items():
        if last.endswith("_" + suffix):
            return text
    return ""


VERBATIM = ("provenance",)  # tables whose keys name fields (with units) but hold text
NAMED = ((), ("materials",))  # tables whose keys are names (sections, materials): a table there is a section


def to_si(raw: dict[str, Any], path: tuple[str, ...] = ()) -> tuple[dict[str, Any], dict[tuple, tuple[str, Any]]]:
    """Convert unit-suffixed keys of a nested mapping to ``<stem>_m`` in metres.

    Returns the converted mapping and ``given``: for each converted field path
    (as a tuple of keys), the key and value the user wrote.
    Raises ``ValueError`` when two keys name the same quantity in different units.
    """
    out, given, twice = to_si_checked(raw, path)
    if twice:
        raise InputError("; ".join(twice))
    return out, given


def to_si_checked(
    raw: dict[str, Any], path: tuple[str, ...] = ()
) -> tuple[dict[str, Any], dict[tuple, tuple[str, Any]], list[str]]:
    """:func:`to_si` that reports instead of raising: also returns one message per quantity given twice.

    Of two keys for one quantity (``length_um`` and ``length_nm``) the first is kept, so that the other
    checks still run; the message names both.  A table under a unit-suffixed key (``length_um = {...}``)
    is a wrongly typed length, kept as written for the validation to name it.
    """
    out: dict[str, Any] = {}
    given: dict[tuple, tuple[str, Any]] = {}
    twice: list[str] = []
    for key, value in raw.items():
        parsed = _si_twin(key)
        section = isinstance(value, dict) and (parsed is None or path in NAMED)
        if section and not (not path and key in VERBATIM):
            out[key], sub, again = to_si_checked(value, (*path, key))
            given.update(sub)
            twice += again
            continue
        if parsed is None or (not path and key in VERBATIM):
            out[key] = value
            continue
        si_key = parsed[2]
        if si_key in out:
            first = given[(*path, si_key)]
            twice.append(
                f"{'.'.join((*path, parsed[0]))}: given twice ({first[0]} = {_short(first[1])} and {key} = "
                f"{_short(value)}); allowed: one of the two, give it once"
            )
            continue
        out[si_key] = _to_si(value, parsed[1])
        given[(*path, si_key)] = (key, value)
    return out, given, twice


def _to_si(value: Any, unit: str) -> Any:
    """A length in metres or a pressure in pascals; a value of the wrong type (a quoted number, true, a table) is
    kept, so the validation names it as the user wrote it: "body.length_um = '5': not a number"."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    try:
        return float(value) * UNIT_FACTORS[unit]
    except OverflowError:  # a 400-digit integer
        return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def parse_pressure(text: str) -> float:
    """A pressure written with its unit (``"1atm"``, ``"100 Pa"``, ``"1e-3mbar"``, ``"0Pa"``) in pascals.

    Raises :class:`InputError` naming the text and the units allowed."""
    import re

    m = re.fullmatch(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*", text)
    units = ", ".join(PRESSURE_UNITS)
    if m is None or m.group(2) not in PRESSURE_UNITS:
        raise InputError(f"pressure {text!r}: give a number and a unit; allowed units: {units} (e.g. 1atm, 100Pa)")
    value = float(m.group(1)) * PRESSURE_UNITS[m.group(2)]
    if not 0 <= value <= 1e7:
        raise InputError(f"pressure {text!r} = {value:g} Pa: allowed [0, 1e7] Pa")
    return value
