"""Stage 1 — design: a probe design file (TOML, explicit units) → a validated :class:`Design` in SI units.

``schema`` (the sections and their bounds), ``messages`` (field, value, allowed range),
``load`` (TOML as data → units → validation → consistency checks), ``data/`` (embedded designs).
"""

from probe_fem.design.load import embedded_design_path, load_design, parse_design, read_toml
from probe_fem.design.schema import Design, DesignError

__all__ = ["Design", "DesignError", "embedded_design_path", "load_design", "parse_design", "read_toml"]
