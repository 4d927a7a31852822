"""Stage 4 — the probe model: a meshed, assembled design and its reports.

``steady`` (R_P, R_apex, heat balance, resistance breakdown), ``dynamics`` (modes, step,
frequency response, modulation verdict), ``convergence`` (refinement study, Richardson).
"""
