"""Design studies (sweeps, uncertainty, sensitivity) and inverse calibration (fits), one concept per module.

* :mod:`~probe_fem.studies.spec` — the study file: schema, validation, :class:`Study`, :func:`load_study`;
* :mod:`~probe_fem.studies.parameters` — a varied parameter: values or distribution, inverse CDF, default ranges;
* :mod:`~probe_fem.studies.keys` — dotted design keys as written in a design file: resolve, override, check;
* :mod:`~probe_fem.studies.evaluate` — one point in a worker process: design, mesh, steady, modes, reduced model;
* :mod:`~probe_fem.studies.table` — the resumable CSV results table;
* :mod:`~probe_fem.studies.runner` — planning and running a study, serially or on dask;
* :mod:`~probe_fem.studies.sensitivity` — sampling, statistics, Sobol' indices, response surfaces;
* :mod:`~probe_fem.studies.targets` — what a fit fits to and varies: measured targets, free parameters, aliases;
* :mod:`~probe_fem.studies.fit` — :func:`~probe_fem.studies.fit.fit_design`: least-squares fit of design
  parameters to measured R_P, τ, f−3dB;
* :mod:`~probe_fem.studies.toml_edit` — writing TOML (the fitted design) with tomlkit, comments kept.

Figures of a study are in :mod:`probe_fem.plots.studies`, the commands in :mod:`probe_fem.cli.study`
and :mod:`probe_fem.cli.fit` (parsers: :mod:`probe_fem.cli.studies`).
"""

from __future__ import annotations

from probe_fem.studies.evaluate import evaluate_point
from probe_fem.studies.fit import FitResult, fit_design
from probe_fem.studies.runner import run_study
from probe_fem.studies.spec import Study, StudyError, load_study, parse_study
from probe_fem.studies.table import ResultTable, TableError
from probe_fem.studies.targets import FitInputError, parse_target

__all__ = [
    "FitInputError",
    "FitResult",
    "ResultTable",
    "Study",
    "StudyError",
    "TableError",
    "evaluate_point",
    "fit_design",
    "load_study",
    "parse_study",
    "parse_target",
    "run_study",
]
