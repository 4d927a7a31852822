"""Stage 6 — analysis: from traces and a calibration file to heat dissipated in the probe (no FEM).

``landauer`` (paper Eq. 1 from a transmission function), ``traces`` (validated trace files),
``demodulation`` (three-level phase averages with drift and settling exclusion),
``simulation`` (synthetic traces for a junction model and a calibration).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from probe_fem.analysis.demodulation import PhaseResult, demodulate, phases
    from probe_fem.analysis.landauer import PRESETS, BreitWigner, Flat, Junction, Transmission, preset
    from probe_fem.analysis.simulation import simulate
    from probe_fem.analysis.traces import TraceError, Traces

# imported on first use (PEP 562): demodulation loads scipy.interpolate (and through it scipy.optimize),
# ~0.2 s that every command paid because the CLI's parsers import ``probe_fem.analysis.noise``
_WHERE = {
    "PhaseResult": "demodulation",
    "demodulate": "demodulation",
    "phases": "demodulation",
    "PRESETS": "landauer",
    "BreitWigner": "landauer",
    "Flat": "landauer",
    "Junction": "landauer",
    "Transmission": "landauer",
    "preset": "landauer",
    "simulate": "simulation",
    "TraceError": "traces",
    "Traces": "traces",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


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
