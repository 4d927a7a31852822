"""Stage 6 — analysis: from traces and a calibration file to heat dissipated in the probe (no FEM).

``landauer`` (paper Eq. 1 from a transmission function), ``traces`` (validated trace files),
``demodulation`` (three-level phase averages with drift and settling exclusion),
``simulation`` (synthetic traces for a junction model and a calibration).
"""

from probe_fem.analysis.demodulation import PhaseResult, demodulate, phases
from probe_fem.analysis.landauer import PRESETS, BreitWigner, Flat, Junction, Transmission, preset
from probe_fem.analysis.simulation import simulate
from probe_fem.analysis.traces import TraceError, Traces

__all__ = [
    "PRESETS",
    "BreitWigner",
    "Flat",
    "Junction",
    "PhaseResult",
    "TraceError",
    "Traces",
    "Transmission",
    "demodulate",
    "phases",
    "preset",
    "simulate",
]
