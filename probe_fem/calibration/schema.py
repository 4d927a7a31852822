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
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from probe_fem.errors import InputError
from probe_fem.io import read_text
from probe_fem.physics.pole_residue import PoleResidue

SCHEMA_VERSION = "1.2"  # 1.1: dynamics.transfer_function; 1.2: mesh.adaptive (older files load unchanged)


class CalibrationError(InputError):
    """A calibration file that cannot be used."""

    kind = "calibration"


class _Strict(BaseModel):
    # finite numbers only (a NaN would be written back as null, and no file we write could be read again)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Quantity(_Strict):
    """A value with its standard uncertainty, unit and origin."""

    value: float = Field(gt=0, le=1e15, description="> 0: R_P in K/W, S_TC in V/K")
    uncertainty: float = Field(ge=0, le=1e15)
    unit: str
    origin: Literal["fem", "measured", "measured+fem", "literature"]
    note: str = ""

    def __str__(self) -> str:
        return f"{self.value:.6g} ± {self.uncertainty:.3g} {self.unit} ({self.origin})"


class Modulation(_Strict):
    frequency_Hz: float = Field(gt=0)
    tolerance: float = Field(gt=0, lt=1)
    worst_relative_error: float = Field(ge=0)
    max_frequency_within_tolerance_Hz: float = Field(gt=0)
    quasi_static: bool


class TransferFunction(_Strict):
    """ΔT_TC/Q_P at the thermocouple as H(s) = Σ r_j/(λ_j + s) (K/W): the verified reduced model.

    A sum of first-order relaxations (λ_j > 0); with it, planning and analysis need no FEM.
    """

    rates_per_s: list[float] = Field(min_length=1, description="λ_j (1/s); the poles are at s = −λ_j")
    residues_K_per_J: list[float] = Field(min_length=1, description="r_j (K/(W·s)); Σ r_j/λ_j is R_P of the FEM")
    verified_max_relative_error: float = Field(ge=0, description="max |H − H_direct|/|H_direct| at the checks")

    @model_validator(mode="after")
    def _consistent(self) -> TransferFunction:
        if len(self.rates_per_s) != len(self.residues_K_per_J):
            raise ValueError("rates_per_s and residues_K_per_J must have the same length")
        if min(self.rates_per_s) <= 0 or not all(math.isfinite(x) for x in self.rates_per_s + self.residues_K_per_J):
            raise ValueError("rates must be finite and > 0 (a stable sum of relaxations), residues finite")
        return self

    def model(self) -> PoleResidue:
        """The transfer function as a :class:`~probe_fem.physics.pole_residue.PoleResidue`."""
        return PoleResidue(lam=np.array(self.rates_per_s), r=np.array(self.residues_K_per_J), dim=len(self.rates_per_s))


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
    transfer_function: TransferFunction | None = None  # since schema 1.1
    discretization_relative_change: dict[str, float] | None = Field(
        default=None, description="|figure(h) − figure(2h)|/|figure(h)| per figure, from a 2x coarser mesh (1.1)"
    )


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


class AdaptiveMesh(_Strict):
    """The goal-oriented adaptive loop that made the calibration mesh (schema 1.2)."""

    target_relative_error: float = Field(gt=0, lt=1, description="requested |ΔR_P|/R_P")
    estimated_error_K_per_W: float = Field(description="a-posteriori estimate of R_P(exact) − R_P(h), signed")
    met: bool = Field(description="the estimated relative error is within the target")
    iterations: int = Field(ge=1)


class MeshSummary(_Strict):
    dofs: int = Field(gt=0)
    tetrahedra: int = Field(gt=0)
    fingerprint: str
    refine: float = Field(gt=0)
    R_P_coarse_K_per_W: float = Field(gt=0, description="R_P on the mesh with every size doubled")
    discretization_uncertainty_K_per_W: float = Field(ge=0, description="|R_P(h) − R_P(2h)|")
    adaptive: AdaptiveMesh | None = Field(default=None, description="set when the mesh was adapted to an accuracy")


PHYSICAL_RANGE = {  # what a thermocouple probe can have; outside, a file is wrong, not a probe
    "R_P": (1.0, 1e12, "K/W"),
    "R_P_fem": (1.0, 1e12, "K/W"),
    "S_TC": (1e-9, 1e-2, "V/K"),
}


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

    @model_validator(mode="after")
    def _physical(self) -> Calibration:
        for name, (lo, hi, unit) in PHYSICAL_RANGE.items():
            q = getattr(self, name)
            if not lo <= q.value <= hi:
                raise ValueError(f"{name}.value = {q.value!r}: allowed [{lo:g}, {hi:g}] {unit}")
            if q.uncertainty > q.value:
                raise ValueError(f"{name}.uncertainty = {q.uncertainty!r}: allowed [0, {q.value:g}] {unit} (≤ value)")
        return self

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
    def load(cls, path: str | Path) -> Calibration:
        """Read a JSON calibration; raises :class:`CalibrationError` with a clear message if unusable."""
        p = Path(path)
        return cls.from_json(read_text(p, lambda message: CalibrationError(f"{p}: {message}")), str(p))

    @classmethod
    def from_json(cls, text: str, source: str = "calibration") -> Calibration:
        try:
            raw = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise CalibrationError(f"{source}: not valid JSON (truncated or corrupt?): {exc}") from None
        if not isinstance(raw, dict):
            raise CalibrationError(f"{source}: must hold a JSON object, found {type(raw).__name__}")
        version = raw.get("schema_version")
        if not isinstance(version, str) or not version.split(".")[0].isdigit():
            raise CalibrationError(f"{source}: schema_version = {version!r}: must be a string like '1.0'")
        major, ours = int(version.split(".")[0]), int(SCHEMA_VERSION.split(".")[0])
        if major > ours:
            raise CalibrationError(
                f"{source}: schema_version = {version!r} was written by a newer probe-fem; "
                f"this version reads schema {ours}.x — upgrade probe-fem"
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            lines = [
                f"{'.'.join(map(str, e['loc'])) or '(top)'} = {_shown(e.get('input'))}: {e['msg']}"
                for e in exc.errors()
            ]
            raise CalibrationError(f"{source}: invalid calibration:\n  - " + "\n  - ".join(lines)) from None

    def rows(self) -> list[tuple[str, float, float, str]]:
        """Flat (quantity, value, uncertainty, unit) rows for tabular formats."""
        rows = [
            ("R_P", self.R_P.value, self.R_P.uncertainty, self.R_P.unit),
            ("R_P_fem", self.R_P_fem.value, self.R_P_fem.uncertainty, self.R_P_fem.unit),
            ("S_TC", self.S_TC.value, self.S_TC.uncertainty, self.S_TC.unit),
        ]
        if self.dynamics:
            d = self.dynamics
            rows += [
                ("tau_dominant", d.dominant_tau_s, 0.0, "s"),
                ("t63", d.t63_s, 0.0, "s"),
                ("f_3dB", d.f_3dB_Hz, 0.0, "Hz"),
                ("modulation_worst_error", d.modulation.worst_relative_error, 0.0, "1"),
                ("modulation_frequency", d.modulation.frequency_Hz, 0.0, "Hz"),
            ]
        if self.network:
            rows += [(f"network_error_{j.name}", j.worst_relative_error, 0.0, "1") for j in self.network.junctions]
        return rows


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def json_schema() -> dict:
    """JSON Schema (draft 2020-12) of the calibration file, generated from the model."""
    schema = Calibration.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://probe-fem/calib/schema.json",
        **schema,
    }


def now_utc() -> str:
    """Creation time (UTC, ISO 8601); ``$SOURCE_DATE_EPOCH`` fixes it, for bit-identical files across runs."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "")
    when = datetime.fromtimestamp(int(fixed), UTC) if fixed.isdigit() else datetime.now(UTC)
    return when.replace(microsecond=0).isoformat()
