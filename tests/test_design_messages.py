"""Design files that are refused are refused for the right reason: the message names the key at fault.

Property tests (hypothesis; fixed seed in CI, ``--hypothesis-profile=long`` for more) write designs with a
wrongly typed value, a length given in two units, or several problems at once, and check that every
message names the right key: a type error on the key (not an "unknown key"), the duplication with both
keys (not the valid one as wrong), and every problem of a combination.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from conftest import raw_reference
from hypothesis import given
from hypothesis import strategies as st

from probe_fem.design import DesignError, load_design, parse_design
from probe_fem.units import LENGTH_UNITS, split_unit

REFERENCE = raw_reference()
LENGTHS = [  # (section, key) of every length the reference writes with a unit
    (section, key)
    for section, table in REFERENCE.items()
    if isinstance(table, dict) and section not in ("materials", "provenance")
    for key in table
    if split_unit(key)
]
WRONG_TYPES = st.one_of(
    st.text(max_size=6),
    st.booleans(),
    st.lists(st.floats(0.1, 10), min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(["value", "um", "x_nm"]), st.floats(0.1, 10), min_size=1, max_size=2),
    st.just(dt.date(2024, 1, 1)),
)


def _messages(raw: dict) -> list[str]:
    with pytest.raises(DesignError) as err:
        parse_design(raw, "generated.toml")
    return err.value.messages


@given(st.sampled_from(LENGTHS), WRONG_TYPES)
def test_a_wrongly_typed_length_is_a_type_error_on_its_key(where, value):
    section, key = where
    raw = copy.deepcopy(REFERENCE)
    raw[section][key] = value
    messages = _messages(raw)
    mine = [m for m in messages if m.startswith(f"{section}.{key} = ")]
    assert mine and "valid number" in mine[0] and "allowed" in mine[0], messages
    assert not [m for m in messages if "unknown key" in m or "missing" in m], messages


def _twin_value(original: float, unit: str, twin: str, kind: str) -> object:
    same = original * LENGTH_UNITS[unit] / LENGTH_UNITS[twin]
    return {"same": same, "other": 2 * same, "text": str(same), "table": {"v": same}}[kind]


@given(st.sampled_from(LENGTHS), st.data())
def test_a_length_given_in_two_units_blames_the_duplication(where, data):
    section, key = where
    stem, unit = split_unit(key)
    twin_unit = data.draw(st.sampled_from(sorted(set(LENGTH_UNITS) - {unit})))
    twin = f"{stem}_{twin_unit}"
    value = _twin_value(
        REFERENCE[section][key], unit, twin_unit, data.draw(st.sampled_from(["same", "other", "text", "table"]))
    )
    raw = copy.deepcopy(REFERENCE)
    items = list(raw[section].items())
    items.insert(data.draw(st.integers(0, len(items))), (twin, value))  # before or after the valid key
    raw[section] = dict(items)
    messages = _messages(raw)
    twice = [m for m in messages if "given twice" in m]
    assert len(twice) == 1 and key in twice[0] and twin in twice[0], messages
    assert not [m for m in messages if m.startswith(f"{section}.{key} =")], messages  # the valid key is fine
    assert not [m for m in messages if "unknown key" in m or "missing" in m], messages


def _set(section: str, key: str, value: object):
    def apply(raw: dict) -> None:
        raw.setdefault(section, {})[key] = value

    return apply


def _drop(section: str, key: str):
    def apply(raw: dict) -> None:
        raw[section].pop(key)

    return apply


def _top(key: str, value: object):
    def apply(raw: dict) -> None:
        raw[key] = value

    return apply


# one problem per field: (what it does, the text its message must hold)
PROBLEMS = {
    "body.width_um": (_set("body", "width_um", "12"), "body.width_um = '12'"),
    "tip.height_um": (_set("tip", "height_um", True), "tip.height_um = True"),
    "thermocouple.thickness_nm": (_set("thermocouple", "thickness_nm", [40]), "thermocouple.thickness_nm = [40]"),
    "insulator.thickness_nm": (_set("insulator", "thickness_nm", {"value": 70}), "insulator.thickness_nm = {"),
    "body.colour": (_set("body", "colour", "red"), "body.colour: unknown key"),
    "body.length_nm": (_set("body", "length_nm", 16220), "body.length: given twice (length_um"),
    "electrode.thickness_nm": (_set("electrode", "thickness_nm", 900), "electrode.thickness_nm = 900"),
    "source.power_W": (_set("source", "power_W", 2.0), "source.power_W = 2.0"),
    "sink.temperature_K": (_set("sink", "temperature_K", 0), "sink.temperature_K = 0"),
    "tip.material": (_set("tip", "material", "gold"), "tip.material = 'gold'"),
    "measured.R_P_uncertainty_K_per_W": (_drop("measured", "R_P_uncertainty_K_per_W"), "measured: give R_P"),
    "provenance": (_set("provenance", "body.colour_um", "estimated"), "provenance.body.colour_um"),
    "name": (_top("name", ".."), "name = '..'"),
    "thermocouple.leg_gap_um": (_drop("thermocouple", "leg_gap_um"), "thermocouple.leg_gap_m: missing"),
    "thermocouple.junction_below_apex_nm": (
        _set("thermocouple", "junction_below_apex_nm", -50),
        "thermocouple.junction_below_apex_nm = -50",
    ),
    "mesh": (
        _top("mesh", {"size_apex_nm": 1000, "size_tc_nm": 50, "size_far_um": 2}),
        "mesh.size_apex_nm = 1000",
    ),
}


@given(st.lists(st.sampled_from(sorted(PROBLEMS)), min_size=2, max_size=4, unique=True))
def test_every_problem_of_a_combination_is_reported(names):
    raw = copy.deepcopy(REFERENCE)
    for name in names:
        PROBLEMS[name][0](raw)
    text = "\n".join(_messages(raw))
    for name in names:
        assert PROBLEMS[name][1] in text, f"{name}: {PROBLEMS[name][1]!r} not in\n{text}"


@pytest.mark.parametrize("levels", [100, 2000])
def test_a_deeply_nested_array_is_one_error_naming_the_problem(levels, tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("name = 'x'\nx = " + "[" * levels + "]" * levels + "\n", encoding="utf-8")
    with pytest.raises(DesignError) as err:
        load_design(path)
    assert err.value.messages == [
        "not valid TOML: line 2: arrays or tables nested too deeply; allowed at most 64 levels"
    ] or "nested more than 64 levels deep" in str(err.value), str(err.value)


def test_deeply_nested_tables_are_refused_before_any_recursion(tmp_path):
    path = tmp_path / "dotted.toml"
    path.write_text("a" + ".a" * 3000 + " = 1\n", encoding="utf-8")  # tomllib reads it; the checks would recurse
    with pytest.raises(DesignError, match="nested more than 64 levels deep"):
        load_design(path)
