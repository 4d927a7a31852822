"""Measurement planning against Monte Carlo: simulator → analyze scatter vs plan's σ; closed forms; the PSD
fit; the transfer function in the calibration file; the lag bias; bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from probe_fem.analysis import demodulate, preset, simulate
from probe_fem.analysis.noise import NoiseError, NoiseModel, fit_trace, load_psd, synthesize
from probe_fem.analysis.plan import Acquisition, PlanError, lag_errors, plan, variance, weighted_harmonics
from probe_fem.calibration import Calibration
from probe_fem.calibration.schema import embedded_calibration_path
from probe_fem.cli.main import main
from probe_fem.physics.modulation import Waveform, demodulation_error

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = embedded_calibration_path()
JUNCTION = preset("bdnc")


@pytest.fixture(scope="module")
def cal():
    return Calibration.load(SHIPPED)


def monte_carlo(cal, noise, f, seeds, seed0, seconds=5.0, sequence="+0-", dead_time=None):
    """Errors of ΔV(+) over seeds and their z-scores with analyze's reported σ."""
    S = cal.S_TC.value
    err, z = [], []
    for s in range(seeds):
        tr, truth = simulate(
            JUNCTION, [1.08], cal, 1, seconds, 2000.0, 1 / f, noise, drift_nV=0.0, seed=seed0 + s, sequence=sequence
        )
        ((p, _),) = demodulate(tr, cal, period=1 / f, dead_time=dead_time)
        err.append(p.dV - S * truth[0].dT_plus)
        z.append(err[-1] / p.u_dV)
    return np.array(err), np.array(z)


def predicted(cal, noise, f, seconds=5.0, sequence="+0-", dead_time=None):
    dead = cal.dynamics.t999_s if dead_time is None else dead_time
    acq = Acquisition(sequence=sequence, dead_time_s=dead, seconds_per_junction=seconds, junctions=1)
    return math.sqrt(variance(noise, acq, f, "+V"))


NOISES = {
    "white": NoiseModel.white_only(6e-9),
    "white+1/f": NoiseModel(white_V_per_rtHz=6e-9, corner_Hz=5.0, R_TC_ohm=0.0, drift_V2_per_s=0.0, mains_V_rms=()),
    # a random walk of ~50 mK per 100 s: at 3 Hz it makes about half the variance of the first harmonic
    "white+1/f+drift": NoiseModel(
        white_V_per_rtHz=6e-9, corner_Hz=5.0, R_TC_ohm=0.0, drift_V2_per_s=6.4e-15, mains_V_rms=()
    ),
}


@pytest.mark.parametrize("name", list(NOISES))
def test_monte_carlo_scatter_matches_the_plan_and_analyze_covers(cal, name):
    for i, f in enumerate((3.0, 12.25, 40.0)):
        seed0 = 10_000 * (list(NOISES).index(name) + 1) + 1000 * i
        err, z = monte_carlo(cal, NOISES[name], f, 200, seed0)
        ratio = np.std(err, ddof=1) / predicted(cal, NOISES[name], f)
        assert abs(ratio - 1) < 0.15, (name, f, ratio)
        assert np.mean(np.abs(z) <= 2) >= 0.90, (name, f)


def test_white_noise_closed_form_of_the_three_level_estimator():
    noise = NoiseModel.white_only(5e-9)
    for f, dead in ((2.0, 0.0), (12.25, 5e-3), (40.0, 2e-3)):
        acq = Acquisition(dead_time_s=dead, fs_Hz=2000.0, seconds_per_junction=5.0)
        t_ex = acq.excluded_s
        closed = 3 * noise.white() / (5.0 * (1 - 3 * f * t_ex))  # 3 S_w / T_eff
        assert variance(noise, acq, f, "+V") == pytest.approx(closed, rel=1e-12)
    # and the harmonic sum of measurement.md, 81/(4π² T) Σ_{k∤3} S/k², for no dead time
    acq = Acquisition(dead_time_s=0.0, fs_Hz=1e7, seconds_per_junction=5.0)
    flat_as_colored = _Colored(noise.white())
    k = np.array([k for k in range(1, 200_001) if k % 3])
    series = 81 / (4 * np.pi**2 * 5.0) * np.sum(noise.white() / k**2)
    assert variance(flat_as_colored, acq, 10.0, "+V") == pytest.approx(series, rel=1e-4)


class _Colored:
    """A flat PSD handed over as 'colored', so the harmonic sum (not the closed form) is used."""

    def __init__(self, s):
        self.s = s

    def psd(self, f):
        return np.full(np.shape(f), self.s)

    colored = psd

    def white(self):
        return 0.0

    def lines(self):
        return []

    def to_dict(self):
        return {}


def test_the_predicted_optimum_is_the_monte_carlo_minimum(cal):
    noise = NoiseModel(white_V_per_rtHz=6e-9, corner_Hz=20.0, R_TC_ohm=0.0, drift_V2_per_s=0.0, mains_V_rms=())
    acq = Acquisition(dead_time_s=4e-3, seconds_per_junction=5.0, junctions=1)
    q = JUNCTION.currents(np.array([1.08, -1.08]))["Q_P"]
    p = plan(cal, noise, acq, q[0], q[1], 12.25, f_min_Hz=1.0, f_max_Hz=80.0, points=60)
    f_opt = p.optimal_frequency_Hz
    sig, se = [], []
    for i, f in enumerate((f_opt / 4, f_opt, f_opt * 3)):
        err, _ = monte_carlo(cal, noise, f, 200, 50_000 + 1000 * i, dead_time=4e-3)
        sig.append(np.std(err, ddof=1))
        se.append(sig[-1] / math.sqrt(2 * 199))
    assert sig[1] <= min(sig[0], sig[2]) + 2 * math.hypot(se[1], max(se[0], se[2]))
    assert sig[1] < sig[0] and sig[1] < sig[2]


def test_psd_fit_recovers_white_level_and_corner_from_60_s():
    truth = NoiseModel(white_V_per_rtHz=5e-9, corner_Hz=5.0, R_TC_ohm=0.0, drift_V2_per_s=0.0, mains_V_rms=(40e-9,))
    v = synthesize(truth, 120_000, 2000.0, np.random.default_rng(7))
    fit = fit_trace(v, 2000.0, mains_Hz=60.0).model
    assert fit.white_V_per_rtHz == pytest.approx(5e-9, rel=0.10)
    assert fit.corner_Hz == pytest.approx(5.0, rel=0.10)
    assert fit.mains_V_rms[0] == pytest.approx(40e-9, rel=0.2)


def test_synthesized_noise_has_the_model_psd():
    from scipy.signal import welch

    model = NoiseModel(white_V_per_rtHz=4e-9, corner_Hz=10.0, R_TC_ohm=1000.0, drift_V2_per_s=0.0, mains_V_rms=())
    v = synthesize(model, 400_000, 2000.0, np.random.default_rng(3))
    f, S = welch(v, fs=2000.0, nperseg=8192)
    band = (f > 2) & (f < 900)
    assert np.median(S[band] / model.psd(f[band])) == pytest.approx(1.0, rel=0.05)


def test_calibration_file_carries_the_verified_transfer_function(tiny_run, tmp_path):
    rom, cal = tiny_run.dynamics.rom, tiny_run.calibration
    back = Calibration.load(cal.save(tmp_path / "c.json"))
    tf = back.dynamics.transfer_function.model()
    assert tf.f_3dB() == pytest.approx(rom.f_3dB(), rel=1e-6)
    assert tf.f_3dB() == pytest.approx(cal.dynamics.f_3dB_Hz, rel=1e-6)
    assert tf.crossing(1 - math.exp(-1)) == pytest.approx(rom.crossing(1 - math.exp(-1)), rel=1e-6)
    assert tf.dc == pytest.approx(tiny_run.steady.R_P, rel=1e-9)
    wave = Waveform()
    ours, full = demodulation_error(tf, wave, 12.25), demodulation_error(rom, wave, 12.25)
    for k in full:
        assert ours[k] == pytest.approx(full[k], rel=1e-6)


def test_old_calibration_files_still_load(tmp_path):
    raw = json.loads(SHIPPED.read_text())
    raw["schema_version"] = "1.0"
    del raw["dynamics"]["transfer_function"]
    (tmp_path / "old.json").write_text(json.dumps(raw))
    old = Calibration.load(tmp_path / "old.json")
    assert old.dynamics.transfer_function is None
    with pytest.raises(PlanError, match="transfer function"):
        plan(old, NoiseModel(), Acquisition(), 1e-7, 1e-7, 12.25)


@pytest.mark.slow
def test_the_shipped_calibration_is_what_the_code_computes_today():
    """The calibration inside the package is the reference's, as ``calibrate()`` makes it now (not a stale copy)."""
    from probe_fem.pipeline import calibrate

    shipped = json.loads(SHIPPED.read_text())
    fresh = json.loads(calibrate().calibration.to_json())
    assert shipped["design_fingerprint"] == fresh["design_fingerprint"]
    assert shipped["mesh"] == fresh["mesh"]
    for key in ("R_P", "R_P_fem", "S_TC"):
        assert shipped[key]["value"] == pytest.approx(fresh[key]["value"], rel=1e-9)
        assert shipped[key]["uncertainty"] == pytest.approx(fresh[key]["uncertainty"], rel=1e-6)
    for key in ("dominant_tau_s", "t10_s", "t63_s", "t90_s", "t999_s", "f_3dB_Hz", "mean_delay_s"):
        assert shipped["dynamics"][key] == pytest.approx(fresh["dynamics"][key], rel=1e-6)


def test_plan_lag_bias_equals_modulations_at_12_25_Hz(cal):
    rom = cal.dynamics.transfer_function.model()
    acq = Acquisition(dead_time_s=0.0)
    lag = lag_errors(rom, acq, 12.25, 1.0, 0.8)
    ref = demodulation_error(rom, Waveform(levels=(1.0, 0.0, 0.8)), 12.25)
    assert abs(lag["+V"]) == pytest.approx(ref["+V"], rel=1e-6)
    assert abs(lag["-V"]) == pytest.approx(ref["-V"], rel=1e-6)
    assert abs(lag["+V"]) > 1e-4  # a real lag at 12.25 Hz without dead time (~1e-3)


def test_plus_zero_minus_zero_cancels_the_fake_asymmetry(cal):
    rom = cal.dynamics.transfer_function.model()
    three = lag_errors(rom, Acquisition(sequence="+0-", dead_time_s=0.0), 12.25, 1.0, 1.0)["asymmetry"]
    four = lag_errors(rom, Acquisition(sequence="+0-0", dead_time_s=0.0), 12.25, 1.0, 1.0)["asymmetry"]
    assert abs(three) > 1e-4
    assert abs(four) * 50 <= abs(three)


def test_plan_of_the_papers_acquisition_contains_12_25_Hz(cal, tmp_path):
    assert main(["plan", str(SHIPPED), "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "plan.json").read_text())
    lo, hi = data["plateau_Hz"]
    assert lo <= data["optimal_frequency_Hz"] <= hi
    assert lo < 12.25 < hi
    for key in ("nep_W_per_rtHz", "sigma_dT_K_per_junction", "sigma_Q_P_W_per_junction", "sigma_Q_P_W_pooled"):
        assert key in data
    assert set(data["lag_bias"]) == {"+V", "-V"}
    assert data["sigma_Q_P_W_pooled"] == pytest.approx(data["sigma_Q_P_W_per_junction"] / 10, rel=1e-12)
    assert data["sigma_dT_K_pooled"]["+V"] < 1e-4  # the paper's "< 0.1 mK"
    assert (tmp_path / "plan.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--white-nV", "-1"], "white-nV"),
        (["--dead-time", "30ms"], "dead_time"),
        (["--harmonics", "100"], "highest weighted harmonic"),
    ],
)
def test_bad_plan_input_exits_2_and_writes_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    assert exit_code(["plan", str(SHIPPED), "--out", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def exit_code(argv: list[str]) -> int:
    """main's return code, or argparse's exit code for an argument it refused."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_bad_psd_files_exit_2_with_one_message(tmp_path, capsys):
    nan = tmp_path / "nan.csv"
    nan.write_text("f_Hz,S_V2_per_Hz\n1,1e-17\n2,nan\n")
    one = tmp_path / "one.csv"
    one.write_text("f_Hz\n1\n2\n3\n")
    for path, message in ((nan, "not finite"), (one, "1 column")):
        with pytest.raises(NoiseError, match=message):
            load_psd(path)
        assert main(["plan", str(SHIPPED), "--out", str(tmp_path / "o"), "--noise-psd", str(path)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_dead_time_counts_from_the_edge_and_matters_when_the_lag_is_slow(cal):
    """With a 0.4 ms probe, samples right after each edge are biased; excluding them removes the bias."""
    raw = json.loads(SHIPPED.read_text())
    raw["dynamics"]["mode_tau_s"], raw["dynamics"]["mode_weight_tc"] = [4e-4], [1.0]
    slow = Calibration.model_validate(raw)
    quiet = NoiseModel.white_only(1e-12)
    tr, truth = simulate(JUNCTION, [1.08], slow, 1, 5.0, 2000.0, 1 / 12.25, quiet, drift_nV=0.0, seed=1)
    S = slow.S_TC.value
    ((none, _),) = demodulate(tr, slow, period=1 / 12.25, dead_time=0.0)
    ((some, _),) = demodulate(tr, slow, period=1 / 12.25, dead_time=3e-3)
    bias_none = abs(none.dV / (S * truth[0].dT_plus) - 1)
    bias_some = abs(some.dV / (S * truth[0].dT_plus) - 1)
    assert bias_none > 1e-3 and bias_some < bias_none / 10


def test_analyze_handles_the_plus_zero_minus_zero_sequence(cal):
    err, z = monte_carlo(cal, NoiseModel.white_only(6e-9), 12.25, 30, 90_000, sequence="+0-0")
    assert np.mean(np.abs(z) <= 2) >= 0.8
    assert abs(np.mean(err)) < 3 * np.std(err) / math.sqrt(30)


def test_weighted_harmonics_skip_the_multiples_of_the_phase_count():
    assert weighted_harmonics((1, 0, -1), 5) == [1, 2, 4, 5, 7]
    assert weighted_harmonics((1, 0, -1, 0), 4) == [1, 2, 3, 5]
