"""Stage 5 — calibration: what analyses consume, readable without gmsh or scikit-fem.

``schema`` (the validated :class:`Calibration`, JSON load/save), ``build`` (a calibration from
the model's reports), ``network`` (validity of Q_P = ΔT_TC/R_P against R_J and R_S),
``exporters`` (one small module per file format, in a registry).
"""

from probe_fem.calibration.build import build, network_summary
from probe_fem.calibration.schema import SCHEMA_VERSION, Calibration, CalibrationError, json_schema

__all__ = ["SCHEMA_VERSION", "Calibration", "CalibrationError", "build", "json_schema", "network_summary"]
