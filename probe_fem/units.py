"""Unit suffixes at the edge of the program.

Input files name lengths with an explicit unit suffix (``thickness_nm = 70``,
``length_um = 14``).  :func:`to_si` rewrites every such key to its SI twin
(``thickness_m = 7e-08``) and remembers what the user wrote, so that error
messages can quote the user's own key and value.  Inside the code every length
is in metres.
"""

from __future__ import annotations

from typing import Any

LENGTH_UNITS: dict[str, float] = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "nm": 1e-9}


def split_unit(key: str) -> tuple[str, str] | None:
    """``'height_um'`` -> ``('height', 'um')``; ``None`` if the key has no length unit."""
    stem, _, unit = key.rpartition("_")
    if stem and unit in LENGTH_UNITS:
        return stem, unit
    return None


VERBATIM = ("provenance",)  # tables whose keys name fields (with units) but hold text


def to_si(raw: dict[str, Any], path: tuple[str, ...] = ()) -> tuple[dict[str, Any], dict[tuple, tuple[str, Any]]]:
    """Convert unit-suffixed keys of a nested mapping to ``<stem>_m`` in metres.

    Returns the converted mapping and ``given``: for each converted field path
    (as a tuple of keys), the key and value the user wrote.
    Raises ``ValueError`` when two keys name the same quantity in different units.
    """
    out: dict[str, Any] = {}
    given: dict[tuple, tuple[str, Any]] = {}
    for key, value in raw.items():
        if isinstance(value, dict) and not (not path and key in VERBATIM):
            out[key], sub = to_si(value, path + (key,))
            given.update(sub)
            continue
        parsed = split_unit(key)
        if parsed is None:
            out[key] = value
            continue
        stem, unit = parsed
        si_key = f"{stem}_m"
        if si_key in out:
            dotted = ".".join(path + (stem,))
            raise ValueError(f"{dotted}: given twice ({given[path + (si_key,)][0]} and {key}); give it once")
        # a length of the wrong type (a quoted number, true, a table) keeps its value under the SI key,
        # so the validation names it as the user wrote it: "body.length_um = '5': not a number"
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        try:
            out[si_key] = float(value) * LENGTH_UNITS[unit] if number else value
        except OverflowError:  # a 400-digit integer
            out[si_key] = value
        given[path + (si_key,)] = (key, value)
    return out, given
