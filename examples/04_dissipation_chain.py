"""04 — The whole chain: design → calibration → synthetic experiments → heat dissipated in the probe.

1. Calibrate the embedded NTISTP design: FEM R_P, dynamics (settling time for
   the demodulation), network validity; the measured R_P and S_TC of the paper
   override/accompany the FEM values.
2. Simulate the paper's experiments: BDNC at V_M = 0.74…1.27 V, BDA at
   0.44…0.82 V, Au–Au at 30…67 mV (Landauer heating, the probe's thermal modes,
   SR560-class amplifier and 1 kΩ thermocouple noise with 1/f, drift and
   mains (the simulator's default noise model), several junctions per V_M).
3. Demodulate each trace set into ΔT_TC,Avg(±V_M) and Q_P,Avg against Q_Total,Avg.
4. The paper's three findings: BDNC puts more heat into the probe at negative
   bias, BDA at positive bias, Au–Au shows no asymmetry.
5. Back to the junction: a Breit–Wigner level fitted to Q_P(±V), the mean
   currents and G (10 %) recovers the level and width of the BDNC (LUMO) and
   BDA (HOMO) junctions that made the data, and says which branch they prefer.

Run: ``python examples/04_dissipation_chain.py`` (writes ``dissipation_<model>.png``).
"""

from __future__ import annotations

import numpy as np

from probe_fem import JunctionData, calibrate, demodulate, fit_junction, paper, preset, simulate
from probe_fem.analysis.junction_data import Measured
from probe_fem.plots.analysis import plot_dissipation

PAPER_BIAS = {name: list(paper.BIAS_V[name]) for name in ("bdnc", "bda", "au")}


def run(refine: float = 1.0, junctions: int = 10, figures: bool = False) -> dict:
    """Per model: the asymmetry ΔT(+) − ΔT(−) in units of its standard uncertainty at each V_M."""
    cal = calibrate(refine=refine, cache=None).calibration
    out = {}
    for k, (name, bias) in enumerate(PAPER_BIAS.items()):
        junction = preset(name)
        traces, _ = simulate(junction, bias, cal, junctions, 5.0, spread=0.05, seed=k)  # default noise model
        results = demodulate(traces, cal)
        z = [(p.dV - m.dV) / np.hypot(p.u_dV, m.u_dV) for p, m in results]
        out[name] = {
            "z": np.array(z),
            "fraction_plus": [p.fraction for p, _ in results],
            "fraction_minus": [m.fraction for _, m in results],
        }
        if name != "au":
            g = junction.conductance
            fit = fit_junction(JunctionData.from_results(results, Measured(g, 0.1 * g)))
            bw = junction.transmission
            out[name]["fit"] = {
                "branch": fit.branch,
                "delta_chi2": fit.delta_chi2,
                "level": (fit.values["level_eV"], fit.sigma["level_eV"], bw.level),
                "gamma": (fit.values["gamma_eV"], fit.sigma["gamma_eV"], bw.gamma),
                "S": (fit.seebeck_V_per_K, fit.seebeck_sigma_V_per_K, junction.seebeck_exact),
            }
        if figures:
            plot_dissipation(
                results,
                cal.R_P.value,
                f"dissipation_{name}.png",
                junction,
                f"Au-{name.upper()}-Au" if name != "au" else "Au-Au",
            )
    return out


if __name__ == "__main__":
    for name, r in run(figures=True).items():
        print(f"{name:5s} asymmetry (ΔT(+) − ΔT(−))/σ per V_M: " + ", ".join(f"{z:+.1f}" for z in r["z"]))
        print(
            "      f(+) = "
            + ", ".join(f"{f:.3f}" for f in r["fraction_plus"])
            + " ;  f(−) = "
            + ", ".join(f"{f:.3f}" for f in r["fraction_minus"])
        )
        if "fit" in r:
            f = r["fit"]
            print(
                f"      fit: {f['branch']} (other branch worse by Δχ² = {f['delta_chi2']:.3g}); "
                f"level {f['level'][0]:+.3f} ± {f['level'][1]:.3f} eV (true {f['level'][2]:+.3f}), "
                f"Γ {f['gamma'][0]:.4f} ± {f['gamma'][1]:.4f} eV (true {f['gamma'][2]:.4f}), "
                f"S {f['S'][0] * 1e6:+.2f} ± {f['S'][1] * 1e6:.2f} µV/K (true {f['S'][2] * 1e6:+.2f})"
            )
