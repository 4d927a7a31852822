"""CSV: quantity, value, uncertainty, unit — for spreadsheets and LabVIEW."""

import csv

from probe_fem.calibration.exporters import register


@register("csv", ".csv")
def write(cal, path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["quantity", "value", "uncertainty", "unit"])
        w.writerow(["probe", cal.probe, "", ""])
        for name, value, unc, unit in cal.rows():
            w.writerow([name, repr(float(value)), repr(float(unc)), unit])
