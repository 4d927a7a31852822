"""Goal-oriented error estimate of R_P and the adaptive loop (``calibrate --accuracy``).

The estimate is checked against errors that are known: a heterogeneous layered bar with a
closed-form solution, and the reference probe against a Richardson value from three uniform
meshes (coarse levels, so the file runs in well under a minute).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from probe_fem.design import load_design
from probe_fem.mesh.bars import layered_bar
from probe_fem.model.adapt import adapt, estimate_model, target_sizes
from probe_fem.model.convergence import richardson
from probe_fem.model.steady import build_model, solve_steady
from probe_fem.physics import conduction
from probe_fem.physics.estimate import Bubbles, goal_estimate, recovered_gradients, recovery_estimate

LEVELS = (0.25, 0.5, 1.0)  # uniform refine factors (ratio 2) for the Richardson value


def _bar_case(size_um: float, k: tuple[float, float]):
    """Layered bar (Au-like on SiN-like, contrast k[0]/k[1]) heated in volume with q = c·k per element.

    Then T = c (L x − x²/2) in every layer (no flux between layers, none at x = L): the sensor
    mean has a closed form, while P1 on tetrahedra cannot represent the quadratic exactly.
    """
    L_um, c = 10.0, 1e12  # µm, K/m²
    mesh, layer = layered_bar(L_um, [0.5, 0.5], width_um=1.0, size_um=size_um)
    kk = np.asarray(k)[layer]
    prob = conduction.assemble(mesh, kk, 1.0, sensor="sensor")
    tets = prob.elements
    f = np.bincount(tets.t.ravel(), weights=np.tile(c * kk * tets.volumes / 4, 4), minlength=mesh.n_nodes)
    T = conduction.solve(prob, f=f).T
    z = conduction.solve(prob, f=prob.sensor).T
    L = L_um * 1e-6
    a, b = 0.45 * L, 0.55 * L
    F = lambda x: L * x**2 / 2 - x**3 / 6  # noqa: E731 - antiderivative of L x − x²/2
    exact = c * (F(b) - F(a)) / (b - a)
    bub = Bubbles(tets, prob.sink)
    sensor = mesh.skfem.subdomains["sensor"]
    all_elements = np.arange(mesh.n_elements)
    load_T = bub.volume_load(all_elements, c * kk)
    load_z = bub.volume_load(sensor, 1.0 / tets.volumes[sensor].sum())
    est = goal_estimate(bub, kk, T, z, load_T, load_z)
    return exact - prob.sensor @ T, est, (tets, T, z, layer, kk)


@pytest.mark.parametrize("size_um", [0.7, 0.35])
def test_estimate_on_an_analytic_heterogeneous_bar(size_um):
    true, est, (tets, T, z, layer, kk) = _bar_case(size_um, (200.0, 1.0))
    assert abs(true) > 1e-6 * 37.0  # a real discretisation error, far above round-off
    assert 1 / 3 <= est.error / true <= 3  # effectivity (measured 0.97, 0.96)
    assert est.absolute_sum >= abs(est.error)
    rec = recovery_estimate(tets, kk, T, z, layer)  # the alternative works on this smooth case too
    assert 1 / 3 <= rec.error / true <= 3  # (measured 0.98, 0.93)


def test_recovery_does_not_average_across_materials():
    """Per-region recovery reproduces a field whose gradient jumps at the interface; one global
    average does not (it smears the jump into an error on both sides)."""
    _, _, (tets, _, _, layer, _) = _bar_case(0.7, (200.0, 1.0))
    # a piecewise-linear field with a kink at the interface z = 0.5 µm: gradient 1 below, 200 above
    zc = tets.p[2]
    u = np.where(zc <= 0.5e-6, zc, 0.5e-6 + 200 * (zc - 0.5e-6))
    grad = np.einsum("eik,ei->ek", tets.gradients, u[tets.t.T])
    per_region = recovered_gradients(tets, grad, layer) - grad[:, None, :]
    one_region = recovered_gradients(tets, grad, np.zeros_like(layer)) - grad[:, None, :]
    scale = np.abs(grad).max()
    assert np.abs(per_region).max() < 1e-8 * scale
    assert np.abs(one_region).max() > 0.1 * scale


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A mesh cache for this module: the adaptive loop's first mesh is the coarsest uniform level."""
    return str(tmp_path_factory.mktemp("meshes"))


@pytest.fixture(scope="module")
def reference(cache):
    """Uniform levels of the reference design: models, R_P values and their Richardson value."""
    d = load_design()
    levels = []
    for f in LEVELS:
        model = build_model(d, refine=f, cache=cache)
        report, T = solve_steady(model)
        levels.append((model, report, T))
    R = richardson([r.R_P for _, r, _ in levels], 2.0)
    assert R is not None, "uniform levels not monotone: no Richardson value"
    return d, levels, R


def test_estimate_on_the_reference_against_richardson(reference):
    _, levels, R_rich = reference
    for model, report, T in levels[:2]:  # the finest level is only needed for the extrapolation
        est = estimate_model(model, T).error / report.power
        true = R_rich - report.R_P
        assert abs(true) > 1e-3 * R_rich  # the coarse levels are really in error
        assert 1 / 3 <= est / true <= 3  # effectivity (measured 0.62, 0.69 against this Richardson value)


def test_target_sizes_equidistribute():
    rng = np.random.default_rng(0)
    h, eta = np.full(1000, 1e-7), rng.lognormal(0, 2, 1000) * 1e-6
    size, predicted = target_sizes(h, eta, 0.5 * eta.sum(), 1e-9, 1e-5)
    assert np.all((size >= 0.5 * h * 0.98) & (size <= 2 * h * 1.02))
    again, _ = target_sizes(h, eta * (1 + 1e-12), 0.5 * eta.sum(), 1e-9, 1e-5)
    assert np.array_equal(size, again)  # round-off in the estimate does not move the size field
    big, small = np.argmax(eta), np.argmin(eta)
    assert size[big] < h[big] < size[small]  # the worst elements shrink, the best grow
    assert predicted == pytest.approx(np.sum((h / size) ** 3))


def test_adaptive_loop_meets_a_coarse_target(reference, cache):
    d, levels, R_rich = reference
    accuracy = 0.01  # the first (tiny) mesh estimates ~1.8 %: the loop has to refine
    ad = adapt(d, accuracy, start_refine=LEVELS[0], max_iterations=5, cache=cache)
    assert ad.met and ad.stopped == "met"
    rel = [s.relative for s in ad.history]
    assert len(rel) >= 2 and rel[0] > accuracy >= rel[-1]  # it had to refine, and the estimate fell
    assert all(b < a for a, b in itertools.pairwise(rel))
    assert ad.history[0].R_P == levels[0][1].R_P  # the first mesh: the design's sizes ÷ start_refine
    assert ad.history[-1].R_P == ad.report.R_P and ad.error == pytest.approx(ad.history[-1].estimate)
    true = abs(R_rich - ad.report.R_P) / R_rich
    assert true <= 3 * accuracy  # the mesh really is accurate, not just estimated to be
    assert 1 / 3 <= ad.error / (R_rich - ad.report.R_P) <= 3
    # gmsh is deterministic with a background field too: the final mesh rebuilt from its sizes is identical
    again = build_model(d, background=ad.background)
    assert again.probe.mesh.fingerprint() == ad.report.mesh_fingerprint


@pytest.mark.parametrize("value", [0.0, 0.6, float("nan")])
def test_api_rejects_bad_accuracy_before_meshing(value, monkeypatch):
    import probe_fem.model.adapt as adapt_module
    from probe_fem.errors import InputError

    monkeypatch.setattr(adapt_module, "build_model", lambda *a, **k: pytest.fail("meshed"))
    with pytest.raises(InputError, match="accuracy"):
        adapt(load_design(), value)


def test_not_converged_is_reported(reference, cache):
    d = reference[0]  # the first mesh comes from the cache: no meshing here
    ad = adapt(d, 1e-5, max_iterations=1, start_refine=LEVELS[0], cache=cache)
    assert not ad.met and ad.stopped == "max_iterations" and len(ad.history) == 1
    ad = adapt(d, 1e-5, max_dofs=5_000, start_refine=LEVELS[0], cache=cache)
    assert not ad.met and ad.stopped.startswith("max_dofs") and len(ad.history) == 1


def test_pipeline_reports_the_estimate_beside_the_coarse_difference(reference, cache, tmp_path):
    import jsonschema

    from probe_fem.calibration import Calibration, json_schema
    from probe_fem.pipeline import calibrate

    # refine 2·0.25: the first adaptive mesh is the cached coarsest level, already within 3 %
    run = calibrate(reference[0], 2 * LEVELS[0], cache=cache, dynamics=False, network=False, accuracy=0.03)
    ad, cal = run.adaptive, run.calibration
    assert ad is not None and ad.met
    assert cal.R_P_fem.value == run.steady.R_P
    assert cal.R_P_fem.uncertainty == pytest.approx(abs(ad.error))
    assert cal.mesh.discretization_uncertainty_K_per_W == pytest.approx(abs(run.steady.R_P - run.coarse.R_P))
    assert cal.mesh.adaptive is not None and cal.mesh.adaptive.met
    assert run.coarse.dofs < run.steady.dofs
    res = run.results()["adaptive"]
    assert res["met"] and res["target_relative_error"] == 0.03 and len(res["history"]) == len(ad.history)
    assert res["coarse_comparison"]["dofs"] == run.coarse.dofs
    path = cal.save(tmp_path / "c.json")
    assert Calibration.load(path) == cal
    jsonschema.validate(json.loads(path.read_text()), json_schema())


@pytest.mark.parametrize("value", ["0", "1e-6", "0.6", "60%", "0.0001%", "abc", "nan", "%", "-0.1%"])
def test_cli_rejects_bad_accuracy(value, tmp_path, monkeypatch, capsys):
    from probe_fem.cli.main import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["calibrate", "--quiet", "--accuracy", value])
    assert e.value.code == 2
    assert "--accuracy" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("text", "value"), [("0.1%", 1e-3), ("0.001", 1e-3), ("50%", 0.5), ("1e-5", 1e-5)])
def test_cli_accuracy_forms(text, value):
    from probe_fem.cli.calibrate import accuracy

    assert accuracy(text) == pytest.approx(value)
