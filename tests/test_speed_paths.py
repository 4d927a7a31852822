"""The fast paths compute what the general ones do: closed-form P1 assembly against scikit-fem, the
low-frequency solve against a complex factorization, a study point with a reused mesh against a fresh
one, and a fit whose Jacobian columns are evaluated together against the serial fit."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
from conftest import TINY_SIZES, coarse_design_file
from skfem import Basis, BilinearForm, ElementTetP1, asm
from skfem.helpers import dot, grad

from probe_fem.model.dynamics import thermal_system
from probe_fem.physics import frequency
from probe_fem.physics.p1 import P1Tets
from probe_fem.physics.solvers import factorize
from probe_fem.studies import evaluate
from probe_fem.studies.fit import fit_design


@BilinearForm
def _conduction(u, v, w):
    return w.k * dot(grad(u), grad(v))


@BilinearForm
def _capacity(u, v, w):
    return w.c * u * v


def test_closed_form_p1_matrices_equal_scikit_fem(tiny_model):
    m = tiny_model.probe.mesh.skfem
    rng = np.random.default_rng(0)
    k, c = rng.uniform(1, 300, m.t.shape[1]), rng.uniform(1e6, 3e6, m.t.shape[1])
    tets = P1Tets(m.p, m.t)
    K_ref = asm(_conduction, Basis(m, ElementTetP1(), intorder=1), k=k[:, None])
    M_ref = asm(_capacity, Basis(m, ElementTetP1(), intorder=2), c=c[:, None])
    assert abs(tets.stiffness(k) - K_ref).max() <= 1e-12 * abs(K_ref).max()
    assert abs(tets.mass(c) - M_ref).max() <= 1e-12 * abs(M_ref).max()
    # a second coefficient vector on the same pattern
    assert abs(tets.stiffness(2 * k) - 2 * K_ref).max() <= 1e-12 * abs(K_ref).max()


def test_low_frequency_solve_equals_a_complex_factorization(tiny_model):
    ts = thermal_system(tiny_model)
    for f in (12.25, 1000.0):
        w = 2 * np.pi * f
        fast = frequency.direct(ts, np.array([w]))[0]
        ref = ts.sensor @ factorize((ts.K + 1j * w * ts.M).astype(complex))(ts.f.astype(complex))
        assert abs(fast - ref) <= 1e-10 * abs(ref)


@pytest.fixture(scope="module")
def tiny_raw(tmp_path_factory):
    path = coarse_design_file(tmp_path_factory.mktemp("d") / "tiny.toml", *TINY_SIZES)
    return tomllib.loads(path.read_text())


def test_material_point_with_reused_mesh_equals_a_fresh_evaluation(tiny_raw):
    from probe_fem.mesh import cache

    point = {"materials.au_film.k_W_mK": 180.0}
    cache.forget()
    evaluate.evaluate_point(tiny_raw, {"materials.au_film.k_W_mK": 220.0}, 1.0, 6)  # fills the cache
    (key,) = cache._ELEMENTS
    geometry = cache.elements(key)
    reused = evaluate.evaluate_point(tiny_raw, point, 1.0, 6)
    assert cache.elements(key) is geometry  # the element geometry was reused, not recomputed
    cache.forget()
    fresh = evaluate.evaluate_point(tiny_raw, point, 1.0, 6)
    assert reused["mesh_cached"] and not fresh["mesh_cached"]
    for key in ("R_P_K_per_W", "R_apex_K_per_W", "tau_s", "t63_s", "f_3dB_Hz", "mesh_fingerprint"):
        assert reused[key] == fresh[key], key  # bit for bit


def test_fit_with_columns_evaluated_together_equals_the_serial_fit(tiny_raw, monkeypatch):
    """The plumbing, on a closed-form stand-in for the FEM point (R_P ∝ L/k, τ ∝ L²/k^0.8)."""
    import importlib

    fit_module = importlib.import_module("probe_fem.studies.fit")

    def point(raw, ov, refine, n_modes):
        L, k = ov["body.length_um"], ov["materials.au_film.k_W_mK"]
        return {"status": "ok", "R_P_K_per_W": 8e5 * L / k, "tau_s": 1e-6 * L**2 / k**0.8}

    monkeypatch.setattr(fit_module, "evaluate_point", point)
    truth = point(None, {"body.length_um": 18.8, "materials.au_film.k_W_mK": 185.0}, 1.0, 6)
    free = ["k_au", "body_length"]
    R, tau = truth["R_P_K_per_W"], truth["tau_s"]
    targets = {"rp": (R, 0.005 * R), "tau": (tau, 0.005 * tau)}
    batches = []

    def many(ovs):
        batches.append(len(ovs))
        return [point(tiny_raw, ov, 1.0, 6) for ov in ovs]

    serial = fit_design(tiny_raw, free, targets, n_modes=6)
    batched = fit_design(tiny_raw, free, targets, n_modes=6, evaluate_many=many)
    assert np.array_equal(serial.fitted, batched.fitted) and np.array_equal(serial.sigma, batched.sigma)
    assert serial.fitted == pytest.approx([185.0, 18.8], rel=5e-3)
    assert max(batches) == 2  # the Jacobian's two forward points went out together
