"""NGSolve on the identical mesh, materials and boundary conditions (the mesh is handed over, not re-meshed).

Optional: ``pip install "probe-fem[bench]"``.  Same P1 discretisation, so R_P must agree to 1e-6.
"""

from __future__ import annotations

import time

import numpy as np


def available() -> str | None:
    """None if NGSolve imports, else the reason it does not."""
    try:
        import ngsolve  # noqa: F401
    except ImportError as exc:
        return f"ngsolve not installed ({exc}); pip install 'probe-fem[bench]'"
    return None


def to_ngsolve(model):
    """NGSolve mesh of a probe model: one material per (region, junction) pair, bc 'root' and 'apex'."""
    import netgen.meshing as nm
    import ngsolve as ng

    m = model.probe.mesh.skfem
    ngm = nm.Mesh(dim=3)
    ngm.AddPoints(np.ascontiguousarray(m.p.T))
    k = model.problem.k
    junction = np.zeros(m.t.shape[1], bool)
    junction[m.subdomains["tc_junction"]] = True
    groups, kvals = [], {}
    for kv in np.unique(k):
        for j in (False, True):
            sel = np.flatnonzero((k == kv) & (junction == j))
            if sel.size:
                groups.append((sel, f"k{len(groups)}{'_junction' if j else ''}"))
                kvals[groups[-1][1]] = float(kv)
    for idx, (sel, name) in enumerate(groups, start=1):
        ngm.AddElements(dim=3, index=idx, data=np.ascontiguousarray(m.t[:, sel].T.astype(np.int32)), base=0)
        ngm.SetMaterial(idx, name)
    for i, bname in enumerate(("root", "apex"), start=1):
        ngm.Add(nm.FaceDescriptor(surfnr=i, domin=1, bc=i))
        ngm.SetBCName(i - 1, bname)
        tri = m.facets[:, m.boundaries[bname]].T.astype(np.int32)
        ngm.AddElements(dim=2, index=i, data=np.ascontiguousarray(tri), base=0)
    return ng.Mesh(ngm), kvals


def solve(model, inverse: str = "sparsecholesky") -> dict:
    """Assemble and solve with NGSolve; ``inverse`` 'sparsecholesky' or 'bddc' (CG). Times in s."""
    import ngsolve as ng

    ng.SetNumThreads(1)
    t0 = time.perf_counter()
    mesh, kvals = to_ngsolve(model)
    t_mesh = time.perf_counter() - t0
    fes = ng.H1(mesh, order=1, dirichlet="root")
    u, v = fes.TnT()
    kcf = mesh.MaterialCF(kvals)
    area = ng.Integrate(ng.CoefficientFunction(1.0) * ng.ds("apex"), mesh)
    q = model.problem.power
    t0 = time.perf_counter()
    a = ng.BilinearForm(fes, symmetric=True)
    a += kcf * ng.grad(u) * ng.grad(v) * ng.dx
    pre = ng.Preconditioner(a, "bddc") if inverse == "bddc" else None
    a.Assemble()
    f = ng.LinearForm(fes)
    f += q / area * v * ng.ds("apex")
    f.Assemble()
    t_asm = time.perf_counter() - t0
    gfu = ng.GridFunction(fes)
    t0 = time.perf_counter()
    if inverse == "bddc":
        inv = ng.solvers.CGSolver(a.mat, pre.mat, tol=1e-12, maxiter=5000)
    else:
        inv = a.mat.Inverse(fes.FreeDofs(), inverse="sparsecholesky")
    gfu.vec.data = inv * f.vec
    t_solve = time.perf_counter() - t0
    jun = mesh.Materials(".*_junction")
    vol = ng.Integrate(ng.CoefficientFunction(1.0) * ng.dx(definedon=jun), mesh)
    R_P = ng.Integrate(gfu * ng.dx(definedon=jun), mesh) / vol / q
    return {
        "R_P_K_per_W": float(R_P),
        "handover_s": t_mesh,
        "assembly_s": t_asm,
        "solve_s": t_solve,
        "dofs": int(sum(fes.FreeDofs())),
        "inverse": inverse,
    }
