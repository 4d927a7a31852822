"""Figures. Each ``figure_*`` function returns a :class:`matplotlib.figure.Figure` (no pyplot,
the user's backend untouched); each ``plot_*`` writes that figure to a PNG file atomically.

``fields`` (heat path, convergence), ``dynamics`` (step response, Bode), ``analysis``
(dissipation, the paper's Fig. 2b), ``studies`` (histograms, sensitivities, sweeps).
"""
