"""probe-fem: finite-element thermal models and calibration of thermocouple-integrated scanning probes.

Data flow: :mod:`~probe_fem.design.schema` (TOML → validated SI design) →
:mod:`~probe_fem.mesh.probe` / :mod:`~probe_fem.mesh.core` (gmsh OCC → scikit-fem mesh) →
:mod:`~probe_fem.physics.conduction` (conduction) → :mod:`~probe_fem.model.steady` (R_P and breakdown) →
:mod:`~probe_fem.model.convergence` (refinement study).
"""

from probe_fem._version import __version__

from probe_fem.design.schema import Design, DesignError, load_design  # noqa: E402

__all__ = ["Design", "DesignError", "load_design", "__version__"]
