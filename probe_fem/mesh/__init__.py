"""Stage 2 — geometry and mesh: gmsh (OCC kernel) CAD → tetrahedral mesh handed to scikit-fem.

``core`` (the gmsh session, hand-over, fingerprint), ``probe`` (the probe's layered CAD, named
groups, size fields), ``cache`` (meshes on disk keyed by geometry), ``bars`` (verification bars).
"""
