"""JSON: the canonical calibration file (schema: calib/schema.json)."""

from probe_fem.calibration.exporters import register


@register("json", ".json")
def write(cal, path) -> None:
    path.write_text(cal.to_json(), encoding="utf-8")
