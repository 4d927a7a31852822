"""probe-fem: finite-element thermal models and calibration of thermocouple-integrated scanning probes.

Data flow: :mod:`~probe_fem.design` (TOML → validated SI design) →
:mod:`~probe_fem.geometry` / :mod:`~probe_fem.mesh` (gmsh OCC → scikit-fem mesh) →
:mod:`~probe_fem.steady` (conduction) → :mod:`~probe_fem.results` (R_P and breakdown) →
:mod:`~probe_fem.convergence` (refinement study).
"""

__version__ = "0.1.0"

from .design import Design, DesignError, load_design  # noqa: E402

__all__ = ["Design", "DesignError", "load_design", "__version__"]
