"""Fitting a transmission to measured dissipation: synthetic experiments through simulate and analyze
recover the level and width, pick the HOMO/LUMO branch, give S ≈ 0 for Au–Au; bad data are refused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from probe_fem.analysis import demodulate, simulate
from probe_fem.analysis.junction_data import JunctionData, JunctionDataError, Measured, load_junction_data
from probe_fem.analysis.junction_fit import fit_junction
from probe_fem.analysis.landauer import BreitWigner, Flat, Junction
from probe_fem.analysis.noise import NoiseModel
from probe_fem.calibration import Calibration
from probe_fem.calibration.schema import embedded_calibration_path
from probe_fem.cli.main import main
from probe_fem.constants import G0

ROOT = Path(__file__).resolve().parents[1]
CAL = Calibration.load(embedded_calibration_path())
BIAS = {"LUMO": [0.74, 0.95, 1.08, 1.18, 1.27], "HOMO": [0.44, 0.58, 0.68, 0.76, 0.82]}


def level(eps: float, g_over_g0: float) -> Junction:
    return Junction(BreitWigner(eps, 2 * abs(eps) * math.sqrt(g_over_g0 / (1 - g_over_g0))))


TRUE = {"LUMO": level(1.0, 0.002), "HOMO": level(-0.8, 0.005)}


def experiment(junction, bias, noise_scale, seed):
    noise = NoiseModel(white_V_per_rtHz=4e-9 * noise_scale, R_TC_ohm=1000.0 * noise_scale**2)
    tr, _ = simulate(junction, bias, CAL, 3, 5.0, noise=noise, seed=seed)
    g = junction.conductance
    return JunctionData.from_results(demodulate(tr, CAL), Measured(g, 0.1 * g))


def test_fit_recovers_level_and_width_and_picks_the_branch():
    inside_level, inside_width, runs = 0, 0, 0
    for branch, junction in TRUE.items():
        bw = junction.transmission
        for scale in (1.0, 3.0, 10.0):
            for seed in range(5):
                data = experiment(junction, BIAS[branch], scale, 100 * int(scale) + seed)
                fit = fit_junction(data)
                runs += 1
                inside_level += abs(fit.values["level_eV"] - bw.level) <= 2 * fit.sigma["level_eV"]
                inside_width += abs(fit.values["gamma_eV"] - bw.gamma) <= 2 * fit.sigma["gamma_eV"]
                asym = data.q_minus_W - data.q_plus_W
                if np.max(np.abs(asym) / np.hypot(data.sigma_minus_W, data.sigma_plus_W)) >= 3:
                    assert fit.branch == branch, (branch, scale, seed)
                    assert fit.delta_chi2 is not None and fit.delta_chi2 > 0
    assert inside_level >= 0.9 * runs and inside_width >= 0.9 * runs, (inside_level, inside_width, runs)


def test_au_au_gives_a_seebeck_coefficient_consistent_with_zero():
    au = Junction(Flat(1.0))
    tr, _ = simulate(au, [0.030, 0.043, 0.052, 0.060, 0.067], CAL, 3, 5.0, seed=5)
    data = JunctionData.from_results(demodulate(tr, CAL), Measured(G0, 0.05 * G0))
    fit = fit_junction(data)
    assert abs(fit.seebeck_V_per_K) <= 2 * fit.seebeck_sigma_V_per_K + 1e-7  # 0.1 µV/K: the sign is open


def test_exact_asymmetry_is_reported_and_eq2_is_far_off_at_the_papers_biases():
    data = experiment(TRUE["LUMO"], BIAS["LUMO"], 1.0, 7)
    p = fit_junction(data).predictions
    exact = np.array(p["asymmetry_exact_W"]["value"])
    assert np.all(exact > 0)  # LUMO: more heat in the probe at negative bias
    assert np.all(np.array(p["eq2_over_exact"]) < 0.1)  # Eq. 2 underestimates by more than 10x here


def _csv(tmp_path, rows, name="d.csv"):
    path = tmp_path / name
    path.write_text("bias_V,Q_P_W,sigma_Q_P_W\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


@pytest.mark.parametrize(
    "rows, message",
    [
        ([(1.0, 1e-8, 1e-10), (-1.0, 2e-8, 1e-10)], "2 data points for 3 parameters"),
        ([(1.0, 1e-8, -1e-10), (-1.0, 2e-8, 1e-10), (0.5, 1e-9, 1e-10), (-0.5, 2e-9, 1e-10)], "must be > 0"),
        ([(1.0, "nan", 1e-10), (-1.0, 2e-8, 1e-10)], "non-finite"),
        ([(1.0, 1e-8, 1e-10), (0.5, 2e-9, 1e-10)], "all of one sign"),
    ],
)
def test_bad_data_exit_2_with_one_message_and_no_files(tmp_path, capsys, rows, message):
    path = _csv(tmp_path, rows)
    out = tmp_path / "out"
    assert main(["fit-junction", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()
    with pytest.raises(JunctionDataError):
        fit_junction(load_junction_data(str(path)))


def test_simulate_analyze_fit_junction_from_the_command_line(tmp_path):
    traces = tmp_path / "t.npz"
    assert (
        main(
            [
                "simulate",
                "--model",
                "bda",
                "--bias",
                "0.44,0.58,0.68,0.76,0.82",
                "--junctions",
                "3",
                "--spread",
                "0",
                "--calibration",
                str(embedded_calibration_path()),
                "--out",
                str(traces),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "analyze",
                str(traces),
                "--calibration",
                str(embedded_calibration_path()),
                "--out",
                str(tmp_path / "a.png"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "fit-junction",
                str(tmp_path / "a.json"),
                "--conductance",
                "0.005G0±0.0005G0",
                "--out",
                str(tmp_path / "fit"),
            ]
        )
        == 0
    )
    fit = json.loads((tmp_path / "fit" / "junction_fit.json").read_text())
    assert fit["branch"] == "HOMO" and fit["seebeck_V_per_K"]["value"] > 0
    assert fit["parameters"]["level_eV"]["value"] == pytest.approx(-0.8, abs=0.05)
    assert (tmp_path / "fit" / "junction_fit.png").stat().st_size > 10_000


# ---------------------------------------------------------------- one sign convention for currents on every path
FORWARD_BIAS = np.array([0.74, 1.0, 1.27])


def forward_data(junction: Junction, seed: int = 3) -> dict[str, np.ndarray]:
    """Q_P and the current at +V then −V from the forward model (paper Eq. 1), with noise of the stated σ."""
    c = junction.currents(np.concatenate([FORWARD_BIAS, -FORWARD_BIAS]), n=2001)
    rng = np.random.default_rng(seed)
    sq, si = 0.02 * np.abs(c["Q_P"]), 0.01 * np.abs(c["I"])
    return {
        "V": np.concatenate([FORWARD_BIAS, -FORWARD_BIAS]),
        "q": c["Q_P"] + sq * rng.standard_normal(sq.size),
        "sq": sq,
        "i": c["I"] + si * rng.standard_normal(si.size),  # as measured: the sign of the bias
        "si": si,
    }


def write_csv(d: dict, path: Path) -> Path:
    rows = zip(d["V"], d["q"], d["sq"], d["i"])
    path.write_text(
        "bias_V,Q_P_W,sigma_Q_P_W,current_A\n"
        + "".join(f"{v:.17g},{q:.17g},{s:.17g},{i:.17g}\n" for v, q, s, i in rows)
    )
    return path


def write_analysis_json(d: dict, path: Path) -> Path:
    n = FORWARD_BIAS.size

    def side(k: int) -> dict[str, float]:
        return {"Q_P_W": d["q"][k], "sigma_Q_P_W": d["sq"][k], "current_A": d["i"][k], "sigma_current_A": d["si"][k]}

    results = [{"V_M_V": FORWARD_BIAS[k], "plus": side(k), "minus": side(n + k)} for k in range(n)]
    path.write_text(json.dumps({"results": results, "T_K": 300.0}, default=float))
    return path


@pytest.mark.parametrize("writer", [write_csv, write_analysis_json], ids=["csv", "analyze-json"])
def test_forward_model_currents_fit_to_the_truth_through_every_reader(writer, tmp_path):
    truth = TRUE["LUMO"]
    path = writer(forward_data(truth), tmp_path / ("d.csv" if writer is write_csv else "analysis.json"))
    data = load_junction_data(str(path))
    fit = fit_junction(data, levels_eV=(-0.8, 0.8))
    bw = truth.transmission
    assert fit.branch == "LUMO" and fit.chi2 / fit.dof < 4, (fit.chi2, fit.dof)
    assert abs(fit.values["level_eV"] - bw.level) <= 3 * fit.sigma["level_eV"], fit.values
    assert abs(fit.values["gamma_eV"] - bw.gamma) <= 3 * fit.sigma["gamma_eV"], fit.values
    assert np.all(data.i_plus_A > 0) and np.all(data.i_minus_A < 0)  # the current as measured


def test_currents_given_as_magnitudes_are_refused_not_fitted(tmp_path):
    d = forward_data(TRUE["LUMO"])
    d["i"] = np.abs(d["i"])
    with pytest.raises(JunctionDataError, match=r"current at -V = .*sign included"):
        load_junction_data(str(write_csv(d, tmp_path / "magnitudes.csv")))
