"""The probe calibration that analyses consume: R_P and S_TC with uncertainties, dynamics, network validity.

:class:`Calibration` is a validated data model (pydantic, no extra fields);
JSON is its canonical file format, with a JSON Schema generated from the model
(``calib/schema.json``).  Loading reads JSON as data only (no code runs),
checks the schema version (a newer major version is refused) and validates
every field.  Conversions propagate standard uncertainties to first order:

    ΔT_TC = ΔV_TC / S_TC,    Q_P = ΔV_TC / (S_TC · R_P),
    (u_Q/Q)² = (u_V/V)² + (u_S/S)² + (u_R/R)².
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION = "1.0"


class CalibrationError(ValueError):
    """A calibration file that cannot be used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Quantity(_Strict):
    """A value with its standard uncertainty, unit and origin."""

    value: float
    uncertainty: float = Field(ge=0)
    unit: str
    origin: Literal["fem", "measured", "measured+fem", "literature"]
    note: str = ""


class Modulation(_Strict):
    frequency_Hz: float = Field(gt=0)
    tolerance: float = Field(gt=0, lt=1)
    worst_relative_error: float = Field(ge=0)
    max_frequency_within_tolerance_Hz: float = Field(gt=0)
    quasi_static: bool


class Dynamics(_Strict):
    """Thermocouple response to apex heating (s, Hz)."""

    dominant_tau_s: float = Field(gt=0)
    t10_s: float = Field(gt=0)
    t63_s: float = Field(gt=0)
    t90_s: float = Field(gt=0)
    t999_s: float = Field(gt=0, description="settling time to 99.9 % of the steady rise")
    f_3dB_Hz: float = Field(gt=0)
    mean_delay_s: float = Field(gt=0)
    mode_tau_s: list[float]
    mode_weight_tc: list[float]
    modulation: Modulation


class Junction(_Strict):
    name: str
    conductance_S: float = Field(ge=0)
    phonon_conductance_W_per_K: float = Field(ge=0)
    R_J_K_per_W: float = Field(gt=0)
    worst_relative_error: float = Field(ge=0)
    valid: bool


class Network(_Strict):
    """Validity of Q_P = ΔT_TC / R_P for the paper's junction classes (see probe_fem.calibration.network)."""

    R_apex_K_per_W: float = Field(gt=0)
    R_S_K_per_W: float = Field(gt=0)
    contact_radius_m: float = Field(gt=0)
    substrate_k_W_per_mK: float = Field(gt=0)
    QS_over_QP_max: float = Field(ge=0)
    tolerance: float = Field(gt=0, lt=1)
    apex_minus_tc_fraction: float = Field(description="(ΔT_apex − ΔT_TC)/ΔT_apex for apex heating")
    junctions: list[Junction]


class MeshSummary(_Strict):
    dofs: int = Field(gt=0)
    tetrahedra: int = Field(gt=0)
    fingerprint: str
    refine: float = Field(gt=0)
    R_P_coarse_K_per_W: float = Field(gt=0, description="R_P on the mesh with every size doubled")
    discretization_uncertainty_K_per_W: float = Field(ge=0)


class Calibration(_Strict):
    """Calibration of one probe (SI units; every unit is stated)."""

    schema_version: str = SCHEMA_VERSION
    probe: str
    design_fingerprint: str
    created_utc: str
    R_P: Quantity
    R_P_fem: Quantity
    S_TC: Quantity
    dynamics: Dynamics | None = None
    network: Network | None = None
    mesh: MeshSummary
    software: dict[str, str]

    # ---------------------------------------------------------------- conversions
    def temperature_rise(self, dV, u_dV=0.0) -> tuple[np.ndarray, np.ndarray]:
        """ΔT_TC (K) and its standard uncertainty from a thermocouple reading ΔV_TC ± u (V)."""
        dV, u_dV = np.asarray(dV, float), np.asarray(u_dV, float)
        S, uS = self.S_TC.value, self.S_TC.uncertainty
        return dV / S, np.hypot(u_dV / S, dV * uS / S**2)

    def probe_power(self, dV, u_dV=0.0) -> tuple[np.ndarray, np.ndarray]:
        """Q_P (W) and its standard uncertainty from ΔV_TC ± u (V): Q_P = ΔV_TC/(S_TC·R_P)."""
        T, uT = self.temperature_rise(dV, u_dV)
        R, uR = self.R_P.value, self.R_P.uncertainty
        return T / R, np.hypot(uT / R, T * uR / R**2)

    # ---------------------------------------------------------------- files
    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    def save(self, path: str | Path, fmt: str | None = None) -> Path:
        """Write atomically in the format named by ``fmt`` or the file's suffix (json, csv, mat)."""
        from probe_fem.calibration.exporters import export

        return export(self, path, fmt)

    @classmethod
    def load(cls, path: str | Path) -> "Calibration":
        """Read a JSON calibration; raises :class:`CalibrationError` with a clear message if unusable."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise CalibrationError(f"{p}: cannot read ({exc.strerror})") from None
        return cls.from_json(text, str(p))

    @classmethod
    def from_json(cls, text: str, source: str = "calibration") -> "Calibration":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CalibrationError(f"{source}: not valid JSON (truncated or corrupt?): {exc}") from None
        if not isinstance(raw, dict):
            raise CalibrationError(f"{source}: must hold a JSON object, found {type(raw).__name__}")
        version = raw.get("schema_version")
        if not isinstance(version, str) or not version.split(".")[0].isdigit():
            raise CalibrationError(f"{source}: schema_version = {version!r}: must be a string like '1.0'")
        major, ours = int(version.split(".")[0]), int(SCHEMA_VERSION.split(".")[0])
        if major > ours:
            raise CalibrationError(f"{source}: schema_version = {version!r} was written by a newer probe-fem; "
                                   f"this version reads schema {ours}.x — upgrade probe-fem")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            lines = [f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors()]
            raise CalibrationError(f"{source}: invalid calibration:\n  - " + "\n  - ".join(lines)) from None

    def rows(self) -> list[tuple[str, float, float, str]]:
        """Flat (quantity, value, uncertainty, unit) rows for tabular formats."""
        rows = [("R_P", self.R_P.value, self.R_P.uncertainty, self.R_P.unit),
                ("R_P_fem", self.R_P_fem.value, self.R_P_fem.uncertainty, self.R_P_fem.unit),
                ("S_TC", self.S_TC.value, self.S_TC.uncertainty, self.S_TC.unit)]
        if self.dynamics:
            d = self.dynamics
            rows += [("tau_dominant", d.dominant_tau_s, 0.0, "s"), ("t63", d.t63_s, 0.0, "s"),
                     ("f_3dB", d.f_3dB_Hz, 0.0, "Hz"),
                     ("modulation_worst_error", d.modulation.worst_relative_error, 0.0, "1"),
                     ("modulation_frequency", d.modulation.frequency_Hz, 0.0, "Hz")]
        if self.network:
            rows += [(f"network_error_{j.name}", j.worst_relative_error, 0.0, "1") for j in self.network.junctions]
        return rows


def json_schema() -> dict:
    """JSON Schema (draft 2020-12) of the calibration file, generated from the model."""
    schema = Calibration.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://probe-fem/calib/schema.json", **schema}


def now_utc() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


CONTACT_RADIUS = 10e-9  # m, substrate hot-spot radius [est]
SUBSTRATE_K = 317.0  # W/(m·K), bulk Au [lit]; thin films conduct less, which only raises R_S


def network_summary(R_apex: float, R_P: float, dT_apex_minus_tc: float, tolerance: float = 1e-3,
                    ratio_max: float = 4.0, contact_radius: float = CONTACT_RADIUS,
                    substrate_k: float = SUBSTRATE_K) -> Network:
    """Network validity for the paper's junction classes (Au–Au 1 G0, BDNC 0.002 G0, BDA 0.005 G0)."""
    from probe_fem.calibration import network as nw

    R_S = nw.spreading_resistance(substrate_k, contact_radius)
    junctions = []
    for j in nw.PAPER_JUNCTIONS:
        c = nw.check(j, R_apex, R_P, R_S, ratio_max, tolerance)
        junctions.append(Junction(name=j.name, conductance_S=j.G, phonon_conductance_W_per_K=j.phonon,
                                  R_J_K_per_W=c.R_J, worst_relative_error=c.worst, valid=c.ok))
    return Network(R_apex_K_per_W=R_apex, R_S_K_per_W=R_S, contact_radius_m=contact_radius,
                   substrate_k_W_per_mK=substrate_k, QS_over_QP_max=ratio_max, tolerance=tolerance,
                   apex_minus_tc_fraction=dT_apex_minus_tc, junctions=junctions)


def build(design, report, R_P_coarse: float, refine: float, dynamics=None, software=None) -> Calibration:
    """Calibration from a steady report (and optionally the dynamic report) of ``design``.

    The FEM uncertainty is the discretisation estimate |R_P(h) − R_P(2h)| (conservative for
    an observed order ≥ 1); material-property uncertainty is not included.  A measured R_P in the
    design overrides the FEM value, which is kept as ``R_P_fem``.
    """
    from probe_fem.model.steady import software_versions

    u_fem = abs(report.R_P - R_P_coarse)
    fem = Quantity(value=report.R_P, uncertainty=u_fem, unit="K/W", origin="fem",
                   note="uncertainty: discretisation only, |R_P(h) - R_P(2h)|; material properties not included")
    m = design.measured
    if m.R_P_K_per_W is not None:
        dev = (report.R_P - m.R_P_K_per_W) / m.R_P_K_per_W
        R_P = Quantity(value=m.R_P_K_per_W, uncertainty=m.R_P_uncertainty_K_per_W, unit="K/W",
                       origin="measured+fem", note=f"{m.source}; FEM value differs by {dev:+.2%}")
    else:
        R_P = fem
    given = "measured" in design.model_fields_set
    S = Quantity(value=m.S_TC_uV_per_K * 1e-6, uncertainty=m.S_TC_uncertainty_uV_per_K * 1e-6, unit="V/K",
                 origin="measured" if given else "literature",
                 note=m.source if given else "NTISTP value of Lee et al. 2013, not measured for this probe")
    dyn = None
    if dynamics is not None:
        md, v = dynamics.modes, dynamics.verdict
        dyn = Dynamics(dominant_tau_s=float(md.tau[md.dominant]), t10_s=dynamics.t10, t63_s=dynamics.t63,
                       t90_s=dynamics.t90, t999_s=dynamics.step.crossing(0.999), f_3dB_Hz=dynamics.f_3dB, mean_delay_s=dynamics.rom.mean_delay,
                       mode_tau_s=md.tau.tolist(), mode_weight_tc=md.weight_tc.tolist(),
                       modulation=Modulation(frequency_Hz=v.frequency, tolerance=v.tolerance,
                                             worst_relative_error=max(v.errors.values()),
                                             max_frequency_within_tolerance_Hz=v.max_frequency, quasi_static=v.ok))
    net = network_summary(report.R_apex, report.R_P, (report.dT_apex - report.dT_tc) / report.dT_apex)
    return Calibration(probe=design.name, design_fingerprint=design.fingerprint(), created_utc=now_utc(),
                       R_P=R_P, R_P_fem=fem, S_TC=S, dynamics=dyn, network=net,
                       mesh=MeshSummary(dofs=report.dofs, tetrahedra=report.elements,
                                        fingerprint=report.mesh_fingerprint, refine=refine,
                                        R_P_coarse_K_per_W=R_P_coarse, discretization_uncertainty_K_per_W=u_fem),
                       software=software or software_versions())
