"""Bias sequences of a modulation period: the sign of the bias in each equal phase."""

from __future__ import annotations

# "+0-": the paper's three-level pulses; "+0-0": each bias phase follows a 0 V phase, which
# cancels the lag's fake asymmetry of a symmetric junction to first order
SEQUENCES: dict[str, tuple[int, ...]] = {"+0-": (1, 0, -1), "+0-0": (1, 0, -1, 0)}
