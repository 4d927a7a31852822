"""probe-fem: finite-element thermal models and calibration of thermocouple-integrated scanning probes.

Three lines from a notebook::

    import probe_fem as pf
    run = pf.calibrate(refine=0.5)       # the embedded NTISTP design, R_P in K/W
    print(run.calibration.R_P)

The package follows the data flow, one subpackage per stage, each importing only earlier
ones: ``design`` → ``mesh`` → ``physics`` → ``model`` → ``calibration`` → ``analysis`` →
``studies``; then ``plots``, :mod:`probe_fem.pipeline` (:func:`calibrate`) and ``cli``.
Cross-cutting: ``errors``, ``constants`` (from scipy.constants), ``paper`` (the published
numbers), ``units``, ``io`` (atomic writes), ``progress``.

Names are imported on first use, so reading a calibration file or analysing traces never
loads gmsh or scikit-fem.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from probe_fem._version import __version__
from probe_fem.errors import FitError, InputError, MeshError, ProbeFemError, SolverError

_LAZY = {
    "Design": "probe_fem.design",
    "load_design": "probe_fem.design",
    "calibrate": "probe_fem.pipeline",
    "CalibrationRun": "probe_fem.pipeline",
    "Calibration": "probe_fem.calibration",
    "Traces": "probe_fem.analysis",
    "demodulate": "probe_fem.analysis",
    "simulate": "probe_fem.analysis",
    "Junction": "probe_fem.analysis",
    "preset": "probe_fem.analysis",
    "PRESETS": "probe_fem.analysis",
    "fit_junction": "probe_fem.analysis.junction_fit",
    "JunctionData": "probe_fem.analysis.junction_data",
    "load_junction_data": "probe_fem.analysis.junction_data",
    "load_study": "probe_fem.studies",
    "run_study": "probe_fem.studies",
    "fit_design": "probe_fem.studies.fit",
}

__all__ = [
    "PRESETS",
    "Calibration",
    "CalibrationRun",
    "Design",
    "FitError",
    "InputError",
    "Junction",
    "JunctionData",
    "MeshError",
    "ProbeFemError",
    "SolverError",
    "Traces",
    "__version__",
    "calibrate",
    "demodulate",
    "fit_design",
    "fit_junction",
    "load_design",
    "load_junction_data",
    "load_study",
    "preset",
    "run_study",
    "simulate",
]

if TYPE_CHECKING:
    from probe_fem.analysis import PRESETS, Junction, Traces, demodulate, preset, simulate
    from probe_fem.analysis.junction_data import JunctionData, load_junction_data
    from probe_fem.analysis.junction_fit import fit_junction
    from probe_fem.calibration import Calibration
    from probe_fem.design import Design, load_design
    from probe_fem.pipeline import CalibrationRun, calibrate
    from probe_fem.studies import load_study, run_study
    from probe_fem.studies.fit import fit_design


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'probe_fem' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
