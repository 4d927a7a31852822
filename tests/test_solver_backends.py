"""Every solver backend gives the same R_P as the reference SuperLU factor, to 1e-9 relative; and the
real factors (CHOLMOD, PARDISO) solve complex and block right-hand sides as SuperLU does."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from probe_fem.errors import SolverError
from probe_fem.model.dynamics import thermal_system
from probe_fem.physics import conduction, solvers


def _rp(prob, T: np.ndarray) -> float:
    return float(prob.sensor @ T) / prob.power


def _reference(prob) -> np.ndarray:
    T = np.zeros(prob.K.shape[0])
    T[prob.free] = solvers.superlu(prob.K_free)(prob.f[prob.free])
    return T


CHOLMOD = pytest.mark.skipif(solvers._cholmod() is None, reason="cvxopt (CHOLMOD) is in the fast extra, not installed")


def test_backends_give_the_superlu_r_p(tiny_model):
    prob = tiny_model.problem
    ref = _rp(prob, _reference(prob))
    K, f = prob.K_free, prob.f[prob.free]
    got = {}
    if solvers._cholmod() is not None:
        got["CHOLMOD"] = _rp(prob, _embed(prob, solvers.cholesky(K)(f)))
    if solvers._pardiso() is not None:
        got["PARDISO"] = _rp(prob, _embed(prob, solvers._real_factor_on_complex(_pardiso_solve(K))(f)))
    amg = conduction.solve(prob, method="amg")
    got["amg"] = _rp(prob, amg.T)
    assert amg.info.method.startswith("amg-cg")
    default = conduction.solve(prob)  # what auto picks for this size, as the report names it
    got[default.info.method] = _rp(prob, default.T)
    for name, value in got.items():
        assert value == pytest.approx(ref, rel=1e-9), name


def test_auto_names_the_backend_it_used(tiny_model):
    res = conduction.solve(tiny_model.problem)
    assert res.info.method == f"direct ({solvers.direct_backend(tiny_model.problem.free.size)})"
    assert solvers.direct_backend(10, complex_=True) == "SuperLU"


def test_auto_takes_amg_above_its_size_without_cholmod(monkeypatch):
    monkeypatch.setattr(solvers, "_cholmod", lambda: None)
    assert solvers.choose(solvers.AMG_FROM) == "direct" and solvers.choose(solvers.AMG_FROM + 1) == "amg"
    assert solvers.choose(10**6) == "amg" and solvers.choose(10**6, "direct") == "direct"


@CHOLMOD
def test_real_factor_solves_complex_and_block_right_hand_sides(tiny_model):
    ts = thermal_system(tiny_model)
    A = ts.K + 3e4 * ts.M
    chol, lu = solvers.cholesky(A), solvers.superlu(A)
    rng = np.random.default_rng(1)
    B = rng.standard_normal((A.shape[0], 3)) + 1j * rng.standard_normal((A.shape[0], 3))
    for b in (B[:, 0].real, B[:, 0], B.real, B):
        ref = lu(b.real) + 1j * lu(b.imag) if np.iscomplexobj(b) else lu(b)
        x = chol(b)
        assert x.shape == b.shape and np.iscomplexobj(x) == np.iscomplexobj(b)
        assert np.abs(x - ref).max() <= 1e-10 * np.abs(ref).max()


@CHOLMOD
def test_cholesky_refuses_an_indefinite_matrix(tiny_model):
    with pytest.raises(SolverError, match="positive definite"):
        solvers.cholesky(-tiny_model.problem.K_free)


def _embed(prob, x: np.ndarray) -> np.ndarray:
    T = np.zeros(prob.K.shape[0])
    T[prob.free] = x
    return T


def _pardiso_solve(K):
    import scipy.sparse as sp

    solver = solvers._pardiso().PyPardisoSolver(mtype=2)
    upper = sp.triu(K, format="csr")
    solver.factorize(upper)
    return lambda b: solver.solve(upper, b)


def test_preconditioned_gmres_equals_a_complex_factorization(tiny_dynamics):
    """Above the slowest rate the check solves (K + iωM)T = f by GMRES on the real factor of K + ωM."""
    from probe_fem.physics import frequency

    ts = tiny_dynamics.system
    tau1 = tiny_dynamics.modes.tau[0]
    _rom, space = frequency.reduced_model_and_space(ts, np.array([1e3 / tau1]), depth=12)
    far = frequency.Subspace(space.V[:, :3], space.Kr[:3, :3], space.Mr[:3, :3], space.fr[:3])  # a poor guess
    for w, guess in itertools.product(np.array([2.0, 30.0, 1e3]) / tau1, (None, space, far)):
        T = frequency.shifted_solve(ts, float(w), None if guess is None else guess.solution(float(w)))
        assert T is not None
        A = (ts.K + 1j * w * ts.M).astype(complex)
        ref = solvers.superlu(A)(ts.f.astype(complex))
        backward = np.linalg.norm(A @ T - ts.f) / (abs(A).sum(axis=0).max() * np.linalg.norm(T) + np.linalg.norm(ts.f))
        assert backward <= frequency.BACKWARD_ERROR
        assert abs(ts.sensor @ T - ts.sensor @ ref) <= 1e-10 * abs(ts.sensor @ ref)


def test_boundary_triangles_are_scikit_fems_facets(tiny_model):
    """On a mesh without its facets built (as loaded from the mesh cache), the face-key numbering is scikit-fem's."""
    from skfem import MeshTet1

    from probe_fem.mesh.core import Mesh

    m = tiny_model.probe.mesh.skfem
    bare = Mesh(MeshTet1(m.p, m.t, _boundaries=dict(m.boundaries), _subdomains=dict(m.subdomains)))
    assert getattr(bare.skfem, "_facets", None) is None  # else the fast path is not what is tested
    names = list(m.boundaries)
    for name, tri in zip(names, conduction.boundary_triangles(bare, *names)):
        assert np.array_equal(tri, m.facets[:, m.boundaries[name]]), name
