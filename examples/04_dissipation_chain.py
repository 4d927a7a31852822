"""04 — The whole chain: design → calibration → synthetic experiments → heat dissipated in the probe.

1. Calibrate the embedded NTISTP design: FEM R_P, dynamics (settling time for
   the demodulation), network validity; the measured R_P and S_TC of the paper
   override/accompany the FEM values.
2. Simulate the paper's experiments: BDNC at V_M = 0.74…1.27 V, BDA at
   0.44…0.82 V, Au–Au at 30…67 mV (Landauer heating, the probe's thermal modes,
   20 nV thermocouple noise, baseline drift, several junctions per V_M).
3. Demodulate each trace set into ΔT_TC,Avg(±V_M) and Q_P,Avg against Q_Total,Avg.
4. The paper's three findings: BDNC puts more heat into the probe at negative
   bias, BDA at positive bias, Au–Au shows no asymmetry.

Run: ``python examples/04_dissipation_chain.py`` (writes ``dissipation_<model>.png``).
"""

from __future__ import annotations

import numpy as np

from probe_fem import load_design
from probe_fem.analysis.demodulation import demodulate
from probe_fem.calibration.schema import build
from probe_fem.model.dynamics import analyze
from probe_fem.analysis.landauer import preset
from probe_fem.plots.figures import plot_dissipation
from probe_fem.model.steady import build_model, solve_steady
from probe_fem.analysis.simulation import simulate

PAPER_BIAS = {"bdnc": [0.74, 0.95, 1.08, 1.18, 1.27], "bda": [0.44, 0.58, 0.68, 0.76, 0.82],
              "au": [0.030, 0.043, 0.052, 0.060, 0.067]}


def calibrate(refine: float = 1.0):
    design = load_design()
    coarse, _ = solve_steady(build_model(design, refine=refine / 2))
    model = build_model(design, refine=refine)
    report, _ = solve_steady(model)
    return build(design, report, coarse.R_P, refine, analyze(model))


def run(refine: float = 1.0, junctions: int = 10, figures: bool = False) -> dict:
    """Per model: the asymmetry ΔT(+) − ΔT(−) in units of its standard uncertainty at each V_M."""
    cal = calibrate(refine)
    out = {}
    for k, (name, bias) in enumerate(PAPER_BIAS.items()):
        junction = preset(name)
        traces, _ = simulate(junction, bias, cal, junctions, 5.0, noise_nV=20.0, spread=0.05, seed=k)
        results = demodulate(traces, cal)
        z = [(p.dV - m.dV) / np.hypot(p.u_dV, m.u_dV) for p, m in results]
        out[name] = {"z": np.array(z), "fraction_plus": [p.fraction for p, _ in results],
                     "fraction_minus": [m.fraction for _, m in results]}
        if figures:
            plot_dissipation(results, cal.R_P.value, f"dissipation_{name}.png", junction,
                             f"Au-{name.upper()}-Au" if name != "au" else "Au-Au")
    return out


if __name__ == "__main__":
    for name, r in run(figures=True).items():
        print(f"{name:5s} asymmetry (ΔT(+) − ΔT(−))/σ per V_M: " + ", ".join(f"{z:+.1f}" for z in r["z"]))
        print("      f(+) = " + ", ".join(f"{f:.3f}" for f in r["fraction_plus"])
              + " ;  f(−) = " + ", ".join(f"{f:.3f}" for f in r["fraction_minus"]))
