"""Stage 3 — physics on any named mesh: P1 conduction and its dynamics (SI units).

``solvers`` (SPD factorizations, AMG-CG), ``conduction`` (steady assembly and solve, heat
balance), ``transient`` (heat capacity, modes, BDF2 step), ``frequency`` (verified reduced model,
direct complex solves), ``modulation`` (exact periodic phase averages), ``analytic`` (the spreading
resistance 1/(4ka)), ``substrate`` (axisymmetric spreading resistance).
"""
