"""The published numbers of the NTISTP paper, in SI, in one place.

Lee, W., Kim, K., Jeong, W., Zotti, L. A., Pauly, F., Cuevas, J. C. & Reddy, P.
"Heat dissipation in atomic-scale junctions", Nature 498, 209–212 (2013).
Everything else in probe-fem that quotes the paper imports it from here.
"""

from __future__ import annotations

REFERENCE = "Lee et al., Nature 498, 209 (2013)"

R_P_K_PER_W = 72_800.0  # probe thermal resistance, measured
R_P_UNCERTAINTY_K_PER_W = 500.0
S_TC_V_PER_K = 16.3e-6  # thermocouple Seebeck coefficient, measured
S_TC_UNCERTAINTY_V_PER_K = 0.2e-6
TIME_CONSTANT_S = 10e-6  # "~10 µs" of the micrometre-sized probes
INSULATOR_THICKNESS_M = 70e-9  # SiN film between electrode and thermocouple
JUNCTION_BELOW_APEX_M = 300e-9  # thermocouple junction depth below the apex
R_J_MIN_K_PER_W = 1e7  # junction thermal resistance, lower bound for all junctions studied

MODULATION_FREQUENCY_HZ = 12.25  # three-level +V, 0, -V; period 0.08 s
SAMPLE_RATE_HZ = 2000.0
SECONDS_PER_JUNCTION = 5.0
JUNCTIONS_PER_BIAS = 100

# V_M amplitudes (V) and zero-bias conductances (in G0) of the three junction classes
BIAS_V = {
    "au": (0.030, 0.043, 0.052, 0.060, 0.067),
    "bdnc": (0.74, 0.95, 1.08, 1.18, 1.27),
    "bda": (0.44, 0.58, 0.68, 0.76, 0.82),
}
CONDUCTANCE_G0 = {"au": 1.0, "bdnc": 0.002, "bda": 0.005}
