"""Inverse calibration: the fit recovers parameters from targets the model itself made; inputs; TOML output."""

from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path

import pytest
from conftest import coarse_design_file, raw_reference

import probe_fem.studies.fit as fit_module
import probe_fem.studies.targets as targets_module
from probe_fem.cli.fit import _fit_problem, free_option
from probe_fem.cli.main import main
from probe_fem.design import DesignError
from probe_fem.design.load import embedded_design_path, load_design
from probe_fem.studies.evaluate import evaluate_point
from probe_fem.studies.fit import EvaluationBudgetError, FitProblem, design_mapping, fit_design
from probe_fem.studies.targets import ALIASES, FitInputError, free_parameters, parse_target, resolve_free
from probe_fem.studies.toml_edit import dump_toml, edit_toml

TRUTH = {"body.length_um": 20.0, "materials.au_film.k_W_mK": 240.0}  # start: 17.056 µm, 200 W/(m·K)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny-mesh copy of the reference design file (comments and layout kept)."""
    return coarse_design_file(tmp_path_factory.mktemp("fit") / "tiny.toml", 60, 120, 2.25)


def test_fit_recovers_known_parameters_from_synthetic_targets(tiny, tmp_path, capsys):
    raw = tomllib.loads(tiny.read_text())
    truth = evaluate_point(raw, TRUTH, 1.0, 6)
    R, tau = truth["R_P_K_per_W"], truth["tau_s"]
    out = tmp_path / "out"
    code = main(
        [
            "fit",
            str(tiny),
            "--target-rp",
            f"{R!r}±{0.005 * R!r}",
            "--target-tau",
            f"{tau * 1e6!r}us±{0.005 * tau * 1e6!r}us",
            "--free",
            "body_length,k_au",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    assert "every target matched" in capsys.readouterr().out
    fit = json.loads((out / "fit.json").read_text())
    got = {p["key"]: p for p in fit["free"]}
    assert set(got) == set(TRUTH)
    for key, value in TRUTH.items():
        assert got[key]["fitted"] == pytest.approx(value, rel=5e-3)
        # 0.5 % targets constrain both parameters to about a per cent (they are strongly correlated)
        assert 0 < got[key]["uncertainty_1sigma"] < 0.05 * value
    c = fit["correlation"]
    assert c[0][0] == pytest.approx(1) and c[0][1] == pytest.approx(c[1][0]) and 0.5 < abs(c[0][1]) < 1
    assert all(abs(t["residual_sigmas"]) < 0.1 for t in fit["targets"])  # the default match
    # the fitted design: same format and units, comments kept, fitted values and provenance set
    path = out / "ntistp-fit.toml"
    text = path.read_text()
    assert "# SiN core height above the body" in text and "length_um = " in text
    design = load_design(path)
    assert design.name == "ntistp-fit"
    assert design.body.length_m == pytest.approx(got["body.length_um"]["fitted"] * 1e-6, rel=1e-5)
    assert design.provenance["body.length_um"].startswith("fitted: probe-fem fit to R_P = ")
    assert design.materials["au_film"].origin == "fitted"
    assert design.materials["au_film"].k_W_mK == pytest.approx(got["materials.au_film.k_W_mK"]["fitted"], rel=1e-5)
    again = tomllib.loads(text)
    assert again["mesh"] == raw["mesh"] and again["materials"]["cr_film"] == raw["materials"]["cr_film"]
    assert not [p for p in out.iterdir() if ".tmp" in p.name]
    check = evaluate_point(again, {}, 1.0, 6)  # the written file reproduces the targets
    assert check["R_P_K_per_W"] == pytest.approx(R, rel=2e-3) and check["tau_s"] == pytest.approx(tau, rel=2e-3)


def test_aliases_and_dotted_keys_resolve_to_keys_as_written():
    raw = raw_reference()
    assert resolve_free(raw, "au_thickness") == ("electrode.thickness_nm", 100.0)
    assert resolve_free(raw, "body_length") == ("body.length_um", 17.056)
    assert resolve_free(raw, "k_au") == ("materials.au_film.k_W_mK", 200.0)
    assert resolve_free(raw, "materials.cr_film.k_W_mK") == ("materials.cr_film.k_W_mK", 30.0)
    raw["body"]["length_nm"] = raw["body"].pop("length_um") * 1000  # a file that writes the length in nm
    assert resolve_free(raw, "body_length") == ("body.length_nm", pytest.approx(17056.0))
    for alias in ALIASES:  # every alias names a number of the reference design
        assert resolve_free(raw_reference(), alias)[1] > 0
    given, grammar = free_option(raw_reference(), "body_length, au_thickness", "body_length=15:25")  # the CLI's
    free, problems = free_parameters(raw_reference(), given)
    assert not grammar and not problems
    assert [(p.key, p.low, p.high) for p in free] == [
        ("body.length_um", 15.0, 25.0),
        ("electrode.thickness_nm", 50.0, 200.0),
    ]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--target-rp", "72800±500", "--free", "au_thikness"], "--free 'au_thikness': unknown alias"),
        (["--target-rp", "72800±500", "--free", "body.length_nm"], "writes this length as body.length_um"),
        (
            ["--target-rp", "72800±500", "--free", "body_length,au_thickness"],
            "--free names 2 parameters but 1 target(s) are given",
        ),
        (
            ["--target-rp", "72800±500", "--free", "body_length", "--bounds", "body_length=20:30"],
            "the design's value 17.056 um (the start) must lie within the bounds",
        ),
        (
            ["--target-rp", "72800±500", "--free", "body_length", "--bounds", "tip_height=1:5"],
            "tip_height is not a --free parameter",
        ),
        (["--free", "body_length"], "give at least one target"),
    ],
)
def test_bad_fit_inputs_exit_2_and_write_nothing(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["fit", *argv, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("text", ["72800", "72800±0", "abc±1", "-1±1"])
def test_bad_targets_are_argument_errors(text, capsys):
    with pytest.raises(SystemExit) as e:
        main(["fit", "--target-rp", text, "--free", "body_length"])
    assert e.value.code == 2
    assert "--target-rp" in capsys.readouterr().err


def test_targets_with_units():
    assert parse_target("tau", "10us±3us").value == pytest.approx(10e-6)
    assert parse_target("tau", "10 ± 3 µs").sigma == pytest.approx(3e-6)
    assert parse_target("tau", "0.01ms+-2e-3ms").value == pytest.approx(10e-6)
    assert parse_target("f3db", "11kHz±1kHz").value == pytest.approx(11e3)
    assert parse_target("rp", "72800 K/W ± 500").sigma == 500
    with pytest.raises(ValueError, match="give a unit"):
        parse_target("tau", "10±3")


def test_toml_editing_keeps_layout_and_reads_back():
    text = embedded_design_path().read_text()
    edited = edit_toml(
        text,
        {
            ("body", "length_um"): 19.5,
            ("materials", "au_film", "k_W_mK"): 231.25,
            ("provenance", "materials.au_film.k_W_mK"): "fitted: test",
            ("new", "x_um"): 1.5,
        },
    )
    data = tomllib.loads(edited)
    assert data["body"]["length_um"] == 19.5 and data["materials"]["au_film"]["k_W_mK"] == 231.25
    assert data["provenance"]["materials.au_film.k_W_mK"] == "fitted: test" and data["new"] == {"x_um": 1.5}
    assert data["provenance"]["body.length_um"] == tomllib.loads(text)["provenance"]["body.length_um"]
    assert "height_um = 3.0          # SiN core height above the body" in edited
    assert len(edited.splitlines()) == len(text.splitlines()) + 4
    assert tomllib.loads(dump_toml(raw_reference())) == raw_reference()


# ---------------------------------------------------------------- the Python API
TWO = {"rp": (72800.0, 500.0), "tau": (10e-6, 3e-6)}  # targets: value, 1σ in SI units


def test_fit_design_from_python_values_recovers_known_parameters(tiny):
    import probe_fem as pf

    design = pf.load_design(tiny)  # a Design: its keys are SI (body.length_m, metres)
    truth = {"body.length_m": 20e-6, "materials.au_film.k_W_mK": 240.0}
    point = evaluate_point(design_mapping(design), truth, 1.0, 6)
    R, tau = point["R_P_K_per_W"], point["tau_s"]
    result = pf.fit_design(
        design,
        free={"k_au": (100.0, 400.0), "body_length": None},
        targets={"rp": (R, 0.005 * R), "tau": (tau, 0.005 * tau)},
    )
    assert result.success and "every target matched" in result.message
    assert list(result.values) == ["materials.au_film.k_W_mK", "body.length_m"]
    for key, value in truth.items():
        assert result.values[key] == pytest.approx(value, rel=5e-3)
        assert 0 < result.uncertainties[key] < 0.05 * value
    assert result.free[0].low == 100.0 and result.free[1].high == pytest.approx(2 * 17.056e-6)
    c = result.correlation
    assert c.shape == (2, 2) and c[0, 1] == pytest.approx(c[1, 0]) and 0.5 < abs(c[0, 1]) < 1
    assert set(result.residuals) == {"rp", "tau"} and all(abs(r) < 0.1 for r in result.residuals.values())
    assert result.to_dict()["free"][1]["key"] == "body.length_m"


def test_a_design_file_or_mapping_is_fitted_in_its_own_units(tiny):
    for design in (tiny, str(tiny), tomllib.loads(tiny.read_text())):
        problem = FitProblem.create(design, {"body_length": (10, 40), "materials.au_film.k_W_mK": None}, TWO)
        assert [(p.key, p.start, p.low, p.high) for p in problem.free] == [
            ("body.length_um", 17.056, 10.0, 40.0),
            ("materials.au_film.k_W_mK", 200.0, 100.0, 400.0),
        ]
    assert [t.name for t in FitProblem.create(tiny, ["k_au"], {"tau": (1e-5, 3e-6)}).targets] == ["tau"]


@pytest.mark.parametrize(
    "free, targets, settings, message",
    [
        ({"au_thikness": None}, {"rp": (72800, 500)}, {}, "free['au_thikness']: unknown alias (aliases: "),
        ({"body.length_nm": None}, {"rp": (72800, 500)}, {}, "free['body.length_nm']: the base design writes"),
        (
            {"body_length": (20, 30)},
            {"rp": (72800, 500)},
            {},
            "free['body_length'] = (20.0, 30.0): the design's value 17.056 um (the start) must lie within the bounds",
        ),
        ({"body_length": (30, 20)}, {"rp": (72800, 500)}, {}, "free['body_length'] = (30.0, 20.0): need 0 < low"),
        ({"body_length": "10:40"}, {"rp": (72800, 500)}, {}, "free['body_length'] = '10:40': give bounds as (low, "),
        (
            {"body_length": None, "body.length_um": None},
            {"rp": (1, 1), "tau": (1, 1)},
            {},
            "names body.length_um twice",
        ),
        ("body_length", {"rp": (72800, 500)}, {}, "free: give {name: (low, high) or None} or a list of names"),
        ({}, {"rp": (72800, 500)}, {}, "free: name at least one parameter"),
        (["body_length", "k_au"], {"rp": (72800, 500)}, {}, "free: 2 parameters but targets gives 1"),
        (["body_length"], {}, {}, "targets: give at least one of rp (K/W), tau (s), f3db (Hz)"),
        (["body_length"], {"R_P": (72800, 500)}, {}, "targets['R_P']: unknown target"),
        (["body_length"], {"tau": (10e-6, 0.0)}, {}, "targets['tau'] = (1e-05, 0.0): the uncertainty must be > 0"),
        (["body_length"], {"tau": 10e-6}, {}, "targets['tau'] = 1e-05: give (value, 1σ uncertainty) in s"),
        (["body_length"], {"rp": (72800, 500)}, {"max_evaluations": 0}, "max_evaluations: 0: must be an integer >= 1"),
        (["body_length"], {"rp": (72800, 500)}, {"diff_step": -0.01}, "diff_step: -0.01: allowed (0, 0.5]"),
    ],
)
def test_bad_python_arguments_raise_input_errors_naming_the_argument(tiny, free, targets, settings, message):
    import probe_fem as pf

    with pytest.raises(pf.InputError) as e:
        pf.fit_design(tiny, free, targets, **settings)
    assert isinstance(e.value, FitInputError)
    assert message in str(e.value)
    assert not re.search(r"--[a-z]", str(e.value))  # the library names its arguments, never a flag


def test_every_problem_is_listed_and_the_command_line_names_its_flags(tiny):
    with pytest.raises(FitInputError) as e:
        fit_design(tiny, {"au_thikness": None, "body_length": (20, 30)}, {"tau": (-1.0, 1e-6), "x": (1, 1)})
    assert [(p.argument, p.entry) for p in e.value.problems] == [
        ("free", "au_thikness"),
        ("free", "body_length"),
        ("targets", "tau"),
        ("targets", "x"),
    ]
    assert len(str(e.value).splitlines()) == 4
    # the same problems as the command line words them
    _, problems = _fit_problem(tomllib.loads(tiny.read_text()), "au_thikness,body_length", "body_length=20:30", [])
    assert problems[0].startswith("--free 'au_thikness': unknown alias")
    assert problems[1].startswith("--bounds body_length=20:30: the design's value 17.056 um")
    with pytest.raises(DesignError):
        fit_design({"name": "x"}, ["body_length"], {"rp": (1, 1)})  # a mapping that is no design


def test_running_out_of_evaluations_names_the_argument_in_python_and_the_flag_on_the_command_line(
    tiny, monkeypatch, tmp_path, capsys
):
    def point(raw, ov, refine, n_modes):  # a closed-form stand-in for the FEM point, not linear in ln L
        L = ov["body.length_um"]
        return {"status": "ok", "R_P_K_per_W": 4000 * L * (1 + 0.3 * math.sin(L))}

    monkeypatch.setattr(fit_module, "evaluate_point", point)
    with pytest.raises(EvaluationBudgetError, match=r"no fit within 3 evaluations \(raise max_evaluations\)"):
        fit_design(tiny, ["body_length"], {"rp": (90000.0, 10.0)}, max_evaluations=3)
    argv = ["fit", str(tiny), "--target-rp", "90000±10", "--free", "body_length", "--max-evaluations", "3"]
    assert main([*argv, "--out", str(tmp_path / "out"), "--quiet"]) == 1
    assert "fit: no fit within 3 evaluations (raise --max-evaluations)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_fit_module_is_a_module_and_no_library_message_names_a_flag():
    import importlib

    import probe_fem as pf
    import probe_fem.studies
    import probe_fem.studies.fit as m

    assert m is importlib.import_module("probe_fem.studies.fit") and callable(m.fit_design)
    assert pf.fit_design is m.fit_design is probe_fem.studies.fit_design
    assert not hasattr(pf, "fit") and "fit" not in pf.__all__
    for path in (m.__file__, targets_module.__file__):
        text = Path(path).read_text(encoding="utf-8")
        assert not re.search(r"--[a-z]", text), path  # flags and their grammar live in probe_fem/cli
