"""Design files: units at the edge, every class of bad input rejected before meshing, nothing written."""

from __future__ import annotations

import copy
import filecmp
from pathlib import Path

import pytest
from conftest import raw_reference

from probe_fem.cli.main import main
from probe_fem.design.load import embedded_design_path, load_design, parse_design
from probe_fem.design.schema import DesignError
from probe_fem.units import to_si

ROOT = Path(__file__).resolve().parents[1]


def test_reference_design_is_embedded_and_in_geometry_folder():
    d = load_design()
    assert d.name == "ntistp"
    assert filecmp.cmp(ROOT / "geometry" / "ntistp.toml", embedded_design_path(), shallow=False)


def test_units_convert_to_si():
    si, given = to_si({"a": {"thickness_nm": 70, "length_um": 2, "k_W_mK": 3}})
    assert si["a"]["thickness_m"] == pytest.approx(70e-9)
    assert si["a"]["length_m"] == pytest.approx(2e-6)
    assert si["a"]["k_W_mK"] == 3  # not a length unit: untouched
    assert given[("a", "thickness_m")] == ("thickness_nm", 70)
    d = load_design()
    assert d.insulator.thickness_m == pytest.approx(70e-9)
    assert d.thermocouple.junction_below_apex_m == pytest.approx(300e-9)


def test_every_value_of_the_reference_says_where_it_comes_from():
    d = load_design()
    assert all(m.origin in ("paper", "literature", "fitted", "estimated") for m in d.materials.values())
    assert any(v.startswith("fitted") for v in d.provenance.values())
    assert d.provenance["insulator.thickness_nm"].startswith("paper")


def _edit(change) -> dict:
    raw = copy.deepcopy(raw_reference())
    change(raw)
    return raw


BAD = {
    "negative size": (
        lambda r: r["body"].update(length_um=-5),
        ["body.length_um = -5", "greater than 0", "allowed (0, 1000] um"],
    ),
    "zero size": (lambda r: r["tip"].update(height_um=0), ["tip.height_um = 0", "allowed (0, 50] um"]),
    "film thicker than it coats": (
        lambda r: r["insulator"].update(thickness_nm=900),
        ["insulator.thickness_nm = 900", "thinner than the body", "600 nm"],
    ),
    "thermocouple above the apex": (
        lambda r: r["thermocouple"].update(junction_below_apex_nm=-50),
        ["thermocouple.junction_below_apex_nm = -50", "above the apex", "> 170 nm"],
    ),
    "unknown material": (
        lambda r: r["electrode"].update(material="unobtainium"),
        ["electrode.material = 'unobtainium'", "unknown material", "au_film"],
    ),
    "unknown key": (lambda r: r["body"].update(colour="red"), ["body.colour: unknown key"]),
    "length without unit": (lambda r: r["body"].update(length=18), ["body.length: unknown key", "length_um"]),
    "missing field": (lambda r: r["tip"].pop("height_um"), ["tip.height_m: missing", "height_um"]),
    "same length twice": (lambda r: r["body"].update(length_nm=18000), ["body.length: given twice"]),
    "tip wider than body": (lambda r: r["tip"].update(base_um=40, height_um=28), ["footprint wider than the body"]),
    "apex sharper than its films": (
        lambda r: r["tip"].update(apex_radius_nm=60),
        ["tip.apex_radius_nm = 60", "sharper than its films"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_design_is_rejected_with_field_value_and_range(case):
    change, expected = BAD[case]
    with pytest.raises(DesignError) as err:
        parse_design(_edit(change), "bad.toml")
    text = str(err.value)
    for piece in expected:
        assert piece in text, f"{case}: {piece!r} not in {text!r}"


def test_all_problems_reported_together():
    def two(r):
        r["body"]["length_um"] = -1
        r["tip"]["height_um"] = -3

    with pytest.raises(DesignError) as err:
        parse_design(_edit(two))
    assert len(err.value.messages) == 2
    assert "body.length_um = -1" in str(err.value) and "tip.height_um = -3" in str(err.value)


@pytest.mark.parametrize("command", ["calibrate", "mesh", "converge"])
def test_cli_exits_2_and_writes_nothing_on_bad_input(tmp_path, capsys, command):
    import tomllib  # noqa: F401  (the file below is TOML written by hand)

    bad = tmp_path / "bad.toml"
    text = embedded_design_path().read_text().replace("thickness_nm = 70", "thickness_nm = 900")
    bad.write_text(text)
    out = tmp_path / "out"
    assert main([command, str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "insulator.thickness_nm = 900" in err
    assert not out.exists()


def test_cli_rejects_malformed_toml_and_missing_file(tmp_path, capsys):
    broken = tmp_path / "broken.toml"
    broken.write_text("[body\nlength_um = ")
    assert main(["calibrate", str(broken), "--out", str(tmp_path / "o")]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["calibrate", str(tmp_path / "absent.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "cannot read file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_variant_is_validated_like_a_loaded_design():
    """Design.with_values derives a variant and applies every rule; pydantic's model_copy would not."""
    d = load_design()
    longer = d.with_values({"body.length_m": 2e-5, "materials.au_film.k_W_mK": 150.0})
    assert longer.body.length_m == 2e-5 and longer.materials["au_film"].k_W_mK == 150.0
    with pytest.raises(DesignError, match=r"body.length_m = 6e-06: must hold the coated tip"):
        d.with_values({"body.length_m": 6e-6})  # fits the schema, not the tip
    with pytest.raises(DesignError, match=r"body.lenght_m: names no field"):
        d.with_values({"body.lenght_m": 2e-5})
