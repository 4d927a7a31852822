"""The one source of probe-fem's version, and the versions of the packages behind a result."""

from __future__ import annotations

import platform
from importlib import metadata

__version__ = "0.3.0"

_PACKAGES = {"numpy": "numpy", "scipy": "scipy", "scikit-fem": "scikit-fem", "gmsh": "gmsh", "meshio": "meshio"}


def software_versions() -> dict[str, str]:
    """Versions of the packages that produce a result (read from metadata: nothing is imported)."""
    out = {"probe_fem": __version__, "python": platform.python_version()}
    for key, dist in _PACKAGES.items():
        try:
            out[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[key] = "not installed"
    return out
