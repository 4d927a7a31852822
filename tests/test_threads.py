"""BLAS pools stay at one thread during every solve, for libraries loaded before and after the limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import TINY_SIZES, coarse_design_file

PROBE = """
import json, sys
import scipy.linalg, scipy.sparse.linalg
from threadpoolctl import threadpool_info

seen = []

def watch(fn):
    def wrapped(*a, **k):
        seen.append(max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"))
        return fn(*a, **k)
    return wrapped

scipy.sparse.linalg.splu = watch(scipy.sparse.linalg.splu)
scipy.linalg.eigh = watch(scipy.linalg.eigh)
import probe_fem.physics.solvers as solvers  # CHOLMOD (cvxopt, its own OpenBLAS) is imported on first use

solvers.cholesky = watch(solvers.cholesky)
import probe_fem as pf

run = pf.calibrate(sys.argv[1], cache=None)
print(json.dumps({"calls": len(seen), "max_threads": max(seen), "libraries": len(threadpool_info())}))
"""


def _probe(design, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    env.update(env_extra or {})
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(design)], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_blas_pool_has_one_thread_during_solves_of_the_api(tmp_path):
    # a fresh interpreter: scipy's own OpenBLAS is loaded lazily, after numpy's
    design = coarse_design_file(tmp_path / "tiny.toml", *TINY_SIZES)
    r = _probe(design)
    assert r["calls"] >= 3  # factorizations and the reduced model's eigenproblem
    assert r["libraries"] >= 1
    assert r["max_threads"] == 1


def test_the_user_can_ask_for_more_threads(tmp_path):
    design = coarse_design_file(tmp_path / "tiny.toml", *TINY_SIZES)
    r = _probe(design, {"PROBE_FEM_BLAS_THREADS": "2"})
    assert r["max_threads"] == 2
