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

import itertools
import math
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from probe_fem.design.messages import range_at
from probe_fem.errors import InputError
from probe_fem.io import parse_json, read_text
from probe_fem.physics.pole_residue import PoleResidue

SCHEMA_VERSION = "1.4"  # 1.1: transfer_function; 1.2: mesh.adaptive; 1.3: sensor, resistor; 1.4: environment
VERSION = r"^[0-9]{1,4}\.[0-9]{1,4}$"  # major.minor in ASCII digits ("².0" is not one)


class CalibrationError(InputError):
    """A calibration file that cannot be used."""

    kind = "calibration"


class _Strict(BaseModel):
    # strict: no true/false or "1.5" where a number is meant; finite numbers only (a NaN would be
    # written back as null, and no file we write could be read again)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


MAX_LIST = 10_000  # modes, poles and junctions a file may list
TIME_S = (0.0, 1e6)  # a time of the probe's response, s: (0, ~12 days]


def _time(description: str = "") -> Any:
    return Field(gt=TIME_S[0], le=TIME_S[1], description=description or None)


NAME = r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$"  # probe and junction names: a safe file and MATLAB field name
NAME_RULE = "allowed letters, digits, '_', '.', '+' and '-', starting with a letter or digit (a file name)"


def _check(ok: bool, message: str) -> None:
    """Raise a validation error ``message`` (which starts with the field it is about) unless ``ok``."""
    if not ok:
        raise ValueError(message)


def _check_verdict(name: str, verdict: bool, error: float, tolerance: float) -> None:
    """A verdict must say what its error and tolerance say: ``verdict`` iff ``error`` <= ``tolerance``."""
    within = error <= tolerance
    _check(
        verdict == within,
        f"{name} = {verdict!r}: allowed {within!r} only, as worst_relative_error = "
        f"{error:g} is {'within' if within else 'above'} tolerance = {tolerance:g}",
    )


class Quantity(_Strict):
    """A value with its standard uncertainty, unit and origin."""

    value: float = Field(gt=0, le=1e15, description="> 0: R_P in K/W, S_TC in V/K")
    uncertainty: float = Field(ge=0, le=1e15)
    unit: str
    origin: Literal["fem", "measured", "measured+fem", "literature", "estimated"]  # estimated: since 1.3
    note: str = ""

    def __str__(self) -> str:
        return f"{self.value:.6g} ± {self.uncertainty:.3g} {self.unit} ({self.origin})"


class Modulation(_Strict):
    frequency_Hz: float = Field(gt=0, le=1e9)
    tolerance: float = Field(gt=0, lt=1)
    worst_relative_error: float = Field(ge=0, le=1e6)
    max_frequency_within_tolerance_Hz: float = Field(gt=0, le=1e12)
    quasi_static: bool = Field(description="worst_relative_error <= tolerance")

    @model_validator(mode="after")
    def _verdict(self) -> Modulation:
        _check_verdict("quasi_static", self.quasi_static, self.worst_relative_error, self.tolerance)
        return self


class TransferFunction(_Strict):
    """ΔT_TC/Q_P at the thermocouple as H(s) = Σ r_j/(λ_j + s) (K/W): the verified reduced model.

    A sum of first-order relaxations (λ_j > 0, stable poles) whose steady value Σ r_j/λ_j is R_P of
    the FEM (> 0); with it, planning and analysis need no FEM.
    """

    rates_per_s: list[Annotated[float, Field(ge=1e-6, le=1e15)]] = Field(
        min_length=1, max_length=MAX_LIST, description="λ_j (1/s); the poles are at s = −λ_j"
    )
    residues_K_per_J: list[Annotated[float, Field(ge=-1e30, le=1e30)]] = Field(
        min_length=1, max_length=MAX_LIST, description="r_j (K/(W·s)); Σ r_j/λ_j is R_P of the FEM"
    )
    verified_max_relative_error: float = Field(
        ge=0, le=1e-3, description="max |H − H_direct|/|H_direct| at the checks (calibrate refuses > 1e-3)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> TransferFunction:
        n, m = len(self.rates_per_s), len(self.residues_K_per_J)
        _check(n == m, f"residues_K_per_J: {m} values for {n} rates_per_s; allowed: one residue per rate")
        dc = self.steady_K_per_W
        _check(
            math.isfinite(dc) and dc > 0,
            f"residues_K_per_J: steady value Σ r_j/λ_j = {dc:g} K/W; allowed (0, inf) (a heated probe warms up)",
        )
        return self

    @property
    def steady_K_per_W(self) -> float:
        """H(0) = Σ r_j/λ_j (K/W), the steady rise per watt."""
        return math.fsum(r / lam for r, lam in zip(self.residues_K_per_J, self.rates_per_s))

    def model(self) -> PoleResidue:
        """The transfer function as a :class:`~probe_fem.physics.pole_residue.PoleResidue`."""
        return PoleResidue(lam=np.array(self.rates_per_s), r=np.array(self.residues_K_per_J), dim=len(self.rates_per_s))


class Dynamics(_Strict):
    """Thermocouple response to apex heating (s, Hz); the step times satisfy t10 <= t63 <= t90 <= t999."""

    dominant_tau_s: float = _time()
    t10_s: float = _time()
    t63_s: float = _time()
    t90_s: float = _time()
    t999_s: float = _time("settling time to 99.9 % of the steady rise")
    f_3dB_Hz: float = Field(gt=0, le=1e12)
    mean_delay_s: float = _time()
    mode_tau_s: list[Annotated[float, _time()]] = Field(min_length=1, max_length=MAX_LIST)
    mode_weight_tc: list[Annotated[float, Field(ge=-1e6, le=1e6)]] = Field(min_length=1, max_length=MAX_LIST)
    modulation: Modulation
    transfer_function: TransferFunction | None = None  # since schema 1.1
    discretization_relative_change: dict[str, Annotated[float, Field(ge=0, le=1e6)]] | None = Field(
        default=None, description="|figure(h) − figure(2h)|/|figure(h)| per figure, from a 2x coarser mesh (1.1)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Dynamics:
        steps = [("t10_s", self.t10_s), ("t63_s", self.t63_s), ("t90_s", self.t90_s), ("t999_s", self.t999_s)]
        for (lo_name, lo), (name, value) in itertools.pairwise(steps):
            _check(
                value >= lo,
                f"{name} = {value!r}: allowed [{lo_name} = {lo:g}, inf) s (a step reaches 10, 63, 90, 99.9 % in turn)",
            )
        n, m = len(self.mode_tau_s), len(self.mode_weight_tc)
        _check(n == m, f"mode_weight_tc: {m} values for {n} mode_tau_s; allowed: one weight per mode")
        return self


class Junction(_Strict):
    name: str = Field(pattern=NAME, max_length=40)
    conductance_S: float = Field(ge=0, le=1e3)
    phonon_conductance_W_per_K: float = Field(ge=0, le=1e3)
    R_J_K_per_W: float = Field(gt=0, le=1e30)
    worst_relative_error: float = Field(ge=0, le=1e6)
    valid: bool = Field(description="worst_relative_error <= the network's tolerance")


class Network(_Strict):
    """Validity of Q_P = ΔT_TC / R_P for the paper's junction classes (see probe_fem.calibration.network)."""

    R_apex_K_per_W: float = Field(gt=0, le=1e15)
    R_S_K_per_W: float = Field(gt=0, le=1e30)
    contact_radius_m: float = Field(gt=0, le=1e-3)
    substrate_k_W_per_mK: float = Field(gt=0, le=1e4)
    QS_over_QP_max: float = Field(ge=0, le=1e6)
    tolerance: float = Field(gt=0, lt=1)
    apex_minus_tc_fraction: float = Field(
        ge=0, lt=1, description="(ΔT_apex − ΔT_TC)/ΔT_apex for apex heating (the apex is the hottest point)"
    )
    junctions: list[Junction] = Field(max_length=MAX_LIST)

    @model_validator(mode="after")
    def _verdicts(self) -> Network:
        for i, j in enumerate(self.junctions):
            _check_verdict(f"junctions.{i}.valid", j.valid, j.worst_relative_error, self.tolerance)
        return self


class AdaptiveMesh(_Strict):
    """The goal-oriented adaptive loop that made the calibration mesh (schema 1.2)."""

    target_relative_error: float = Field(gt=0, lt=1, description="requested |ΔR_P|/R_P")
    estimated_error_K_per_W: float = Field(
        ge=-1e15, le=1e15, description="a-posteriori estimate of R_P(exact) − R_P(h), signed"
    )
    met: bool = Field(description="the estimated relative error is within the target")
    iterations: int = Field(ge=1, le=10_000)


class MeshSummary(_Strict):
    dofs: int = Field(gt=0, le=10**12)
    tetrahedra: int = Field(gt=0, le=10**12)
    fingerprint: str
    refine: float = Field(gt=0, le=1e3)
    R_P_coarse_K_per_W: float = Field(gt=0, le=1e15, description="R_P on the mesh with every size doubled")
    discretization_uncertainty_K_per_W: float = Field(ge=0, le=1e15, description="|R_P(h) − R_P(2h)|")
    adaptive: AdaptiveMesh | None = Field(default=None, description="set when the mesh was adapted to an accuracy")


class Resistor(_Strict):
    """A resistive probe's sensor (schema 1.3): a film that is heater and thermometer at once.

    The sensor's rise is ΔR_e/(R_e·α): the TCR- and Joule-weighted mean rise of its conductors.
    ``R_P`` of such a calibration is R_tip, the sensor's rise per watt entering at the apex.
    """

    R_e: Quantity = Field(description="electrical resistance, ohm (terminal to terminal at the root)")
    tcr_per_K: float = Field(ge=-0.1, le=0.1, description="α of R_e for a uniform rise (1/K)")
    R_self: Quantity = Field(description="sensor rise per watt of its own Joule heat, K/W")
    R_apex_self: Quantity = Field(description="apex rise per watt of the sensor's Joule heat, K/W")
    R_tip_over_R_self: float = Field(gt=0, le=1e6)
    joule_share_in_film: float = Field(ge=0, le=1, description="share of the Joule heat in the resistor film")
    self_f_3dB_Hz: float | None = Field(default=None, gt=0, le=1e12, description="self-heating path's f−3dB")
    self_transfer_function: TransferFunction | None = Field(
        default=None, description="sensor rise per watt of Joule heat, H(s) (K/W)"
    )

    @model_validator(mode="after")
    def _units(self) -> Resistor:
        for name, unit in (("R_e", "ohm"), ("R_self", "K/W"), ("R_apex_self", "K/W")):
            q = getattr(self, name)
            _check(q.unit == unit, f"resistor.{name}.unit = {q.unit!r}: allowed {unit!r} (values are in SI units)")
        return self


class EnvironmentRecord(_Strict):
    """The surroundings a calibration holds for (schema 1.4; absent: vacuum, heat leaves through the root only)."""

    pressure_Pa: float = Field(ge=0, le=1e7)
    gas: Literal["air", "N2", "He", "Ar"]
    accommodation: float = Field(gt=0, le=1)
    temperature_K: float = Field(gt=0, le=2000, description="surroundings and sample (= the sink's)")
    radiation: bool
    sample_tilt_deg: float | None = Field(default=None, ge=0, le=45, description="None: no sample")
    surroundings_length_m: float = Field(gt=0, le=0.1)
    heat_shares: dict[Literal["sink", "gas_to_sample", "gas_to_surroundings", "radiation"], float] = Field(
        description="share of the apex heat per path: the sink (root), gas to the sample or surroundings, radiation"
    )

    @model_validator(mode="after")
    def _shares(self) -> EnvironmentRecord:
        total = sum(self.heat_shares.values())
        _check(
            all(0 <= v <= 1 for v in self.heat_shares.values()) and abs(total - 1) <= 1e-6,
            f"environment.heat_shares: each in [0, 1] and summing to 1 (they sum to {total:.9g})",
        )
        return self


PHYSICAL_RANGE = {  # what a thermocouple probe can have; outside, a file is wrong, not a probe
    "R_P": (1.0, 1e12, "K/W"),
    "R_P_fem": (1.0, 1e12, "K/W"),
    "S_TC": (1e-9, 1e-2, "V/K"),
}
CONSISTENCY = 1e-2  # relative: how closely figures computed from one another must agree


class Calibration(_Strict):
    """Calibration of one probe (SI units; every unit is stated)."""

    schema_version: str = Field(default=SCHEMA_VERSION, pattern=VERSION)
    probe: str = Field(pattern=NAME, max_length=64)
    design_fingerprint: str
    created_utc: str = Field(description="ISO 8601 date and time")
    sensor: Literal["thermocouple", "resistor"] = "thermocouple"  # since schema 1.3
    R_P: Quantity
    R_P_fem: Quantity
    S_TC: Quantity | None = Field(default=None, description="thermocouple only (required there)")
    thermocouple_resistance_ohm: float | None = Field(
        default=None,
        gt=0,
        le=1e12,
        description="leg to leg at the root, from the FEM (1.3; when resistivities are given)",
    )
    resistor: Resistor | None = Field(default=None, description="resistive probes only (required there)")
    environment: EnvironmentRecord | None = Field(default=None, description="1.4; absent: vacuum, no radiation")
    dynamics: Dynamics | None = None
    network: Network | None = None
    mesh: MeshSummary
    software: dict[str, str]

    @model_validator(mode="after")
    def _physical(self) -> Calibration:
        self._sensor_fields()
        for name, (lo, hi, unit) in PHYSICAL_RANGE.items():
            q = getattr(self, name)
            if q is None:
                continue
            _check(q.unit == unit, f"{name}.unit = {q.unit!r}: allowed {unit!r} (values are in SI units)")
            _check(lo <= q.value <= hi, f"{name}.value = {q.value!r}: allowed [{lo:g}, {hi:g}] {unit}")
            _check(
                q.uncertainty <= q.value,
                f"{name}.uncertainty = {q.uncertainty!r}: allowed [0, {q.value:g}] {unit} (<= value)",
            )
        _check(
            _is_time(self.created_utc),
            f"created_utc = {_shown(self.created_utc)}: allowed an ISO 8601 time, e.g. 2026-12-01T15:46:28+00:00",
        )
        self._agree_with_fem()
        return self

    def _sensor_fields(self) -> None:
        """A thermocouple has S_TC and no resistor section; a resistor the reverse."""
        tc = self.sensor == "thermocouple"
        _check(
            (self.S_TC is not None) == tc, f"S_TC: {'required' if tc else 'not allowed'} for sensor = {self.sensor!r}"
        )
        _check(
            (self.resistor is None) == tc,
            f"resistor: {'not allowed' if tc else 'required'} for sensor = {self.sensor!r}",
        )

    def require_S_TC(self) -> Quantity:
        """S_TC (V/K) of a thermocouple calibration; :class:`CalibrationError` for a resistive probe's."""
        if self.S_TC is None:
            raise CalibrationError(
                f"{self.probe}: a resistive probe's calibration has no S_TC; simulating, analysing and planning "
                "a resistive measurement are not supported yet"
            )
        return self.S_TC

    def _agree_with_fem(self) -> None:
        """The transfer function's steady value and the network's apex split are figures of the FEM's R_P."""
        fem = self.R_P_fem.value
        tf = self.dynamics.transfer_function if self.dynamics else None
        if tf is not None:
            dc = tf.steady_K_per_W
            _check(
                abs(dc - fem) <= CONSISTENCY * fem,
                f"dynamics.transfer_function: steady value Σ r_j/λ_j = {dc:.6g} K/W; allowed R_P_fem.value = "
                f"{fem:.6g} K/W ± {CONSISTENCY:.0%} (the same FEM model)",
            )
        if self.network is not None:
            n = self.network
            split = 1 - fem / n.R_apex_K_per_W
            _check(
                abs(n.apex_minus_tc_fraction - split) <= CONSISTENCY,
                f"network.apex_minus_tc_fraction = {n.apex_minus_tc_fraction!r}: allowed 1 − R_P_fem/R_apex = "
                f"{split:.6g} ± {CONSISTENCY:g} (R_apex_K_per_W = {n.R_apex_K_per_W:g})",
            )

    # ---------------------------------------------------------------- conversions
    def temperature_rise(self, dV, u_dV=0.0) -> tuple[np.ndarray, np.ndarray]:
        """ΔT_TC (K) and its standard uncertainty from a thermocouple reading ΔV_TC ± u (V)."""
        dV, u_dV = np.asarray(dV, float), np.asarray(u_dV, float)
        s = self.require_S_TC()
        S, uS = s.value, s.uncertainty
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
        """Validate a JSON calibration (every section, see the models); raises :class:`CalibrationError`."""
        raw = parse_json(text, lambda message: CalibrationError(f"{source}: {message}"))
        if not isinstance(raw, dict):
            raise CalibrationError(f"{source}: must hold a JSON object, found {type(raw).__name__}")
        version = raw.get("schema_version")
        if not isinstance(version, str) or not re.fullmatch(VERSION, version):
            raise CalibrationError(
                f"{source}: schema_version = {_shown(version)}: allowed a string of ASCII digits like '1.2'"
            )
        major, ours = int(version.split(".")[0]), int(SCHEMA_VERSION.split(".")[0])
        if major > ours:
            raise CalibrationError(
                f"{source}: schema_version = {version!r} was written by a newer probe-fem; "
                f"this version reads schema {ours}.x — upgrade probe-fem"
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            lines = [_message(e) for e in exc.errors()]
            if len(lines) == 1:
                raise CalibrationError(f"{source}: {lines[0]}") from None
            raise CalibrationError(lines, source) from None

    def rows(self) -> list[tuple[str, float, float, str]]:
        """Flat (quantity, value, uncertainty, unit) rows for tabular formats."""
        rows = [
            ("R_P", self.R_P.value, self.R_P.uncertainty, self.R_P.unit),
            ("R_P_fem", self.R_P_fem.value, self.R_P_fem.uncertainty, self.R_P_fem.unit),
        ]
        if self.S_TC is not None:
            rows.append(("S_TC", self.S_TC.value, self.S_TC.uncertainty, self.S_TC.unit))
        if self.thermocouple_resistance_ohm is not None:
            rows.append(("R_TC", self.thermocouple_resistance_ohm, 0.0, "ohm"))
        if self.resistor is not None:
            r = self.resistor
            rows += [(n, q.value, q.uncertainty, q.unit) for n, q in (("R_e", r.R_e), ("R_self", r.R_self))]
            rows += [("R_apex_self", r.R_apex_self.value, r.R_apex_self.uncertainty, r.R_apex_self.unit)]
            rows += [("tcr", r.tcr_per_K, 0.0, "1/K"), ("R_tip_over_R_self", r.R_tip_over_R_self, 0.0, "1")]
        if self.environment is not None:
            rows += [("pressure", self.environment.pressure_Pa, 0.0, "Pa")]
            rows += [(f"heat_share_{k}", v, 0.0, "1") for k, v in self.environment.heat_shares.items()]
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


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _message(e: Any) -> str:
    """One validation error as 'field = value: problem (allowed range)'.

    Errors of a section's cross-field checks carry their own 'field = value: allowed ...' text, which is
    prefixed with the section."""
    loc = ".".join(map(str, e["loc"]))
    if e["type"] == "value_error":
        text = str(e["msg"]).removeprefix("Value error, ")
        return f"{loc}.{text}" if loc else text
    if e["type"] == "missing":
        return f"{loc}: missing required field"
    if e["type"] == "extra_forbidden":
        return f"{loc}: unknown key"
    if e["type"] == "string_pattern_mismatch":
        return f"{loc} = {_shown(e.get('input'))}: {NAME_RULE}"
    rng = range_at(Calibration, tuple(e["loc"]))
    msg = str(e["msg"])
    return f"{loc} = {_shown(e.get('input'))}: {msg[:1].lower() + msg[1:]}" + (f" ({rng})" if rng else "")


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


def embedded_calibration_path(name: str = "ntistp") -> Path:
    """A calibration shipped inside the package (the reference's, as ``probe-fem calibrate`` makes it)."""
    from importlib import resources

    return Path(str(resources.files("probe_fem.calibration") / "data" / f"{name}.json"))
