"""MATLAB .mat (v5): a struct per quantity with value, uncertainty and unit."""

import scipy.io

from probe_fem.calibration.exporters import register


@register("mat", ".mat")
def write(cal, path) -> None:
    data = {name: {"value": float(v), "uncertainty": float(u), "unit": unit} for name, v, u, unit in cal.rows()}
    data["probe"] = cal.probe
    data["design_fingerprint"] = cal.design_fingerprint
    data["schema_version"] = cal.schema_version
    with open(path, "wb") as fh:
        scipy.io.savemat(fh, data, long_field_names=True)
