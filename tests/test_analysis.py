"""Demodulation of three-level traces: recovers known ΔT(±) within its uncertainty; bad traces rejected."""

from __future__ import annotations

import numpy as np
import pytest

from probe_fem.analysis.demodulation import TraceError, Traces, demodulate, phases
from probe_fem.analysis.landauer import preset
from probe_fem.analysis.noise import NoiseModel
from probe_fem.analysis.simulation import simulate


def z_scores(cal, seed, drift_nV=80.0, seconds=4.37):
    """(measured − true)/σ for ΔV(±) at two amplitudes; ``seconds`` leaves a partial last period."""
    tr, truth = simulate(
        preset("bdnc"),
        [0.74, 1.27],
        cal,
        junctions_per_amplitude=2,
        seconds=seconds,
        noise=NoiseModel.white_per_sample(30e-9, 2000.0),
        drift_nV=drift_nV,
        seed=seed,
    )
    S = cal.S_TC.value
    z = []
    for (p, m), t in zip(demodulate(tr, cal), truth):
        z += [(p.dV - S * t.dT_plus) / p.u_dV, (m.dV - S * t.dT_minus) / m.u_dV]
    return np.array(z)


def test_recovers_known_rise_within_reported_uncertainty(tiny_calibration):
    z = np.concatenate([z_scores(tiny_calibration, seed) for seed in range(40)])
    assert np.mean(np.abs(z) <= 2) >= 0.90
    assert 0.6 < np.std(z) < 1.4  # the reported σ is neither inflated nor optimistic


def test_drift_is_removed(tiny_calibration):
    strong = z_scores(tiny_calibration, 3, drift_nV=2000.0)  # baseline drift 100x the noise
    assert np.all(np.abs(strong) < 4)


def test_paper_findings_survive_the_chain(tiny_calibration):
    for model, more_at in (("bdnc", "negative"), ("bda", "positive"), ("au", None)):
        bias = {"bdnc": [0.95], "bda": [0.58], "au": [0.052]}[model]
        tr, _ = simulate(
            preset(model), bias, tiny_calibration, 2, 5.0, noise=NoiseModel.white_per_sample(20e-9, 2000.0), seed=11
        )
        ((p, m),) = demodulate(tr, tiny_calibration)
        diff, u = p.dV - m.dV, np.hypot(p.u_dV, m.u_dV)
        if more_at is None:
            assert abs(diff) < 3 * u
        else:
            assert (diff > 5 * u) if more_at == "positive" else (diff < -5 * u)
        assert p.Q_total == pytest.approx(m.Q_total, rel=0.01)


def test_phases_from_bias():
    ph, vm = phases(np.array([0.5, 0.5, 0.0, -0.5, -0.5, 0.5]))
    assert vm == 0.5 and ph.tolist() == [1, 1, 0, -1, -1, 1]


def _base(n=600):
    t = np.arange(n) / 2000
    return t, np.zeros(n), 0.5 * np.sign(np.sin(2 * np.pi * 12.25 * t)), np.zeros(n)


def test_bad_traces_are_rejected(tmp_path, tiny_calibration):
    t, v, b, i = _base()
    with pytest.raises(TraceError, match="equal length"):
        Traces.from_arrays(t, v[:-1], b, i)
    v_nan = v.copy()
    v_nan[3] = np.nan
    with pytest.raises(TraceError, match="NaN"):
        Traces.from_arrays(t, v_nan, b, i)
    with pytest.raises(TraceError, match="need >= 3"):
        demodulate(Traces.from_arrays(t, v, b, i), tiny_calibration, period=1e-3)
    csv = tmp_path / "x.csv"
    csv.write_text("t_s,V_TC_V,bias_V,I_A,temperature\n0,0,0,0,1\n")
    with pytest.raises(TraceError, match="unknown columns"):
        Traces.load(csv)
    with pytest.raises(TraceError, match="never leaves 0 V"):
        demodulate(Traces.from_arrays(t, v, np.zeros_like(b), i), tiny_calibration)


def test_csv_and_npz_round_trip(tmp_path, tiny_calibration):
    tr, _ = simulate(preset("au"), [0.03], tiny_calibration, 1, 1.0, seed=2)
    for suffix in (".npz", ".csv"):
        back = Traces.load(tr.save(tmp_path / f"t{suffix}"))
        assert np.allclose(back.v_tc, tr.v_tc, rtol=1e-9, atol=0) and np.array_equal(back.segment, tr.segment)
