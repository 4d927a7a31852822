"""A :class:`Calibration` from the model's reports: FEM R_P with its discretisation uncertainty,
the measured values that override it, the dynamics and the network validity."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from probe_fem._version import software_versions
from probe_fem.calibration import network as nw
from probe_fem.calibration.schema import (
    AdaptiveMesh,
    Calibration,
    Dynamics,
    EnvironmentRecord,
    Junction,
    MeshSummary,
    Modulation,
    Network,
    Quantity,
    Resistor,
    TransferFunction,
    now_utc,
)

if TYPE_CHECKING:
    from probe_fem.design import Design
    from probe_fem.model.adapt import AdaptiveResult
    from probe_fem.model.dynamics import DynamicReport
    from probe_fem.model.resistor import ResistorReport, SelfHeatingDynamics
    from probe_fem.model.steady import SteadyReport

CONTACT_RADIUS = 10e-9  # m, substrate hot-spot radius [est]
SUBSTRATE_K = 317.0  # W/(m·K), bulk Au [lit]; thin films conduct less, which only raises R_S


def network_summary(
    R_apex: float,
    R_P: float,
    dT_apex_minus_tc: float,
    tolerance: float = 1e-3,
    ratio_max: float = 4.0,
    contact_radius: float = CONTACT_RADIUS,
    substrate_k: float = SUBSTRATE_K,
) -> Network:
    """Network validity for the paper's junction classes (Au–Au 1 G0, BDNC 0.002 G0, BDA 0.005 G0)."""
    R_S = nw.spreading_resistance(substrate_k, contact_radius)
    junctions = []
    for j in nw.PAPER_JUNCTIONS:
        c = nw.check(j, R_apex, R_P, R_S, ratio_max, tolerance)
        junctions.append(
            Junction(
                name=j.name,
                conductance_S=j.G,
                phonon_conductance_W_per_K=j.phonon,
                R_J_K_per_W=c.R_J,
                worst_relative_error=c.worst,
                valid=c.ok,
            )
        )
    return Network(
        R_apex_K_per_W=R_apex,
        R_S_K_per_W=R_S,
        contact_radius_m=contact_radius,
        substrate_k_W_per_mK=substrate_k,
        QS_over_QP_max=ratio_max,
        tolerance=tolerance,
        apex_minus_tc_fraction=dT_apex_minus_tc,
        junctions=junctions,
    )


def build(
    design: Design,
    report: SteadyReport,
    R_P_coarse: float,
    refine: float,
    dynamics: DynamicReport | None = None,
    software: dict[str, str] | None = None,
    network: bool = True,
    adaptive: AdaptiveResult | None = None,
    sensor: SensorReports | None = None,
) -> Calibration:
    """Calibration from a steady report (and optionally the dynamic report) of ``design``.

    ``R_P_coarse`` (K/W) is R_P on a 2× coarser mesh; ``refine`` the mesh factor of ``report``;
    ``network=False`` leaves the network validity out; ``adaptive``: the adaptive loop that made
    the mesh of ``report``, if any; ``sensor``: the electrical results (a thermocouple's leg resistance,
    a resistor's reports on both meshes and its self-heating dynamics).

    The FEM uncertainty is the discretisation estimate |R_P(h) − R_P(2h)| (conservative for
    an observed order ≥ 1) or, for an adaptive mesh, the magnitude of the a-posteriori estimate
    (|R_P(h) − R_P(2h)| is then kept beside it in ``mesh``); material-property uncertainty is not
    included.  A measured R_P in the design overrides the FEM value, which is kept as ``R_P_fem``.
    """
    u_diff = abs(report.R_P - R_P_coarse)
    fem = _fem_quantity(report.R_P, u_diff, adaptive)
    net = (report.dT_apex - report.dT_tc) / report.dT_apex
    return Calibration(
        probe=design.name,
        design_fingerprint=design.fingerprint(),
        created_utc=now_utc(),
        R_P=_measured_or(fem, design),
        R_P_fem=fem,
        sensor=design.sensor,
        S_TC=_seebeck(design) if design.resistor is None else None,
        thermocouple_resistance_ohm=None if sensor is None else sensor.thermocouple_ohm,
        resistor=None if sensor is None or sensor.fine is None else _resistor(sensor),
        environment=environment_record(design, report),
        dynamics=None if dynamics is None else _dynamics(dynamics),
        network=network_summary(report.R_apex, report.R_P, net) if network else None,
        mesh=MeshSummary(
            dofs=report.dofs,
            tetrahedra=report.elements,
            fingerprint=report.mesh_fingerprint,
            refine=refine,
            R_P_coarse_K_per_W=R_P_coarse,
            discretization_uncertainty_K_per_W=u_diff,
            adaptive=None if adaptive is None else _adaptive(adaptive),
        ),
        software=software or software_versions(),
    )


def environment_record(design: Design, report: SteadyReport) -> EnvironmentRecord | None:
    """The surroundings of a design with [environment], with the heat's shares per path from ``report``."""
    env = design.environment
    if env is None:
        return None
    return EnvironmentRecord.model_validate(
        {
            "pressure_Pa": env.pressure_Pa,
            "gas": env.gas,
            "accommodation": env.accommodation,
            "temperature_K": design.sink.temperature_K,
            "radiation": env.radiation,
            "sample_tilt_deg": None if env.sample is None else env.sample.tilt_deg,
            "surroundings_length_m": design.surroundings_length,
            "heat_shares": {k: v / report.heat_out for k, v in report.heat_paths.items()},
        }
    )


@dataclass
class SensorReports:
    """What the electrical solve gave: a thermocouple's R_e (Ω), or a resistor's reports (fine, 2× coarser mesh)."""

    thermocouple_ohm: float | None = None
    fine: ResistorReport | None = None
    coarse: ResistorReport | None = None
    dynamics: SelfHeatingDynamics | None = None


def _resistor(s: SensorReports) -> Resistor:
    """The resistor section; each FEM figure's uncertainty is its change from the 2× coarser mesh."""
    f, c = s.fine, s.coarse
    assert f is not None and c is not None
    note = "uncertainty: discretisation only, |X(h) - X(2h)|; material properties not included"

    def q(a: float, b: float, unit: str) -> Quantity:
        return Quantity(value=a, uncertainty=abs(a - b), unit=unit, origin="fem", note=note)

    d = s.dynamics
    return Resistor(
        R_e=q(f.R_e, c.R_e, "ohm"),
        tcr_per_K=f.tcr,
        R_self=q(f.R_self, c.R_self, "K/W"),
        R_apex_self=q(f.R_apex_self, c.R_apex_self, "K/W"),
        R_tip_over_R_self=f.ratio,
        joule_share_in_film=f.film_share,
        self_f_3dB_Hz=None if d is None else d.f_3dB,
        self_transfer_function=None
        if d is None
        else TransferFunction(
            rates_per_s=d.rom.lam.tolist(),
            residues_K_per_J=d.rom.r.tolist(),
            verified_max_relative_error=d.check.max_error,
        ),
    )


def _fem_quantity(R_P: float, u_diff: float, adaptive: AdaptiveResult | None) -> Quantity:
    """The FEM R_P (K/W) with its discretisation uncertainty: |R_P(h) − R_P(2h)|, or the adaptive estimate."""
    if adaptive is None:
        note = "uncertainty: discretisation only, |R_P(h) - R_P(2h)|; material properties not included"
        return Quantity(value=R_P, uncertainty=u_diff, unit="K/W", origin="fem", note=note)
    note = (
        "uncertainty: discretisation only, |a-posteriori estimate| of the adaptive mesh "
        f"(target {adaptive.accuracy:.3g} relative, {'met' if adaptive.met else 'NOT met'}); "
        "|R_P(h) - R_P(2h)| in mesh.discretization_uncertainty_K_per_W; material properties not included"
    )
    return Quantity(value=R_P, uncertainty=abs(adaptive.error), unit="K/W", origin="fem", note=note)


def _measured_or(fem: Quantity, design: Design) -> Quantity:
    """The design's measured R_P (with the FEM's deviation in its note), or the FEM value without one."""
    m = design.measured
    if m.R_P_K_per_W is None or m.R_P_uncertainty_K_per_W is None:  # given together (validated)
        return fem
    dev = (fem.value - m.R_P_K_per_W) / m.R_P_K_per_W
    note = f"{m.source}; FEM value differs by {dev:+.2%}"
    return Quantity(
        value=m.R_P_K_per_W, uncertainty=m.R_P_uncertainty_K_per_W, unit="K/W", origin="measured+fem", note=note
    )


def _seebeck(design: Design) -> Quantity:
    """S_TC (V/K): the design's measured value, else |S_Cr-leg − S_Au-leg| of its films' Seebeck coefficients
    with their uncertainties added in quadrature (the design's rules guarantee one or the other)."""
    m = design.measured
    if m.S_TC_uV_per_K is not None and m.S_TC_uncertainty_uV_per_K is not None:
        return Quantity(
            value=m.S_TC_uV_per_K * 1e-6,
            uncertainty=m.S_TC_uncertainty_uV_per_K * 1e-6,
            unit="V/K",
            origin="measured",
            note=m.source,
        )
    tc = design.thermocouple
    au, cr = (design.materials[n or ""] for n in (tc.au_material, tc.cr_material))
    assert au.seebeck_uV_per_K is not None and cr.seebeck_uV_per_K is not None
    pair = cr.seebeck_uV_per_K - au.seebeck_uV_per_K
    u = math.hypot(au.seebeck_uncertainty_uV_per_K or 0.0, cr.seebeck_uncertainty_uV_per_K or 0.0)
    literature = {au.origin, cr.origin} <= {"paper", "literature"}
    note = (
        f"|S({tc.cr_material}) - S({tc.au_material})| = |{cr.seebeck_uV_per_K:g} - {au.seebeck_uV_per_K:g}| uV/K from "
        "the films' Seebeck coefficients (uncertainties in quadrature); not measured for this probe"
        + (f"; their uncertainty {u:g} uV/K exceeds the value and is given as the value" if u > abs(pair) else "")
    )
    return Quantity(
        value=abs(pair) * 1e-6,
        uncertainty=min(u, abs(pair)) * 1e-6,
        unit="V/K",
        origin="literature" if literature else "estimated",
        note=note,
    )


def _dynamics(d: DynamicReport) -> Dynamics:
    """The calibration's dynamics section: times, modes, the modulation verdict, the transfer function."""
    md, v = d.modes, d.verdict
    return Dynamics(
        dominant_tau_s=float(md.tau[md.dominant]),
        t10_s=d.t10,
        t63_s=d.t63,
        t90_s=d.t90,
        t999_s=d.t999,
        f_3dB_Hz=d.f_3dB,
        mean_delay_s=d.rom.mean_delay,
        mode_tau_s=md.tau.tolist(),
        mode_weight_tc=md.weight_tc.tolist(),
        modulation=Modulation(
            frequency_Hz=v.frequency,
            tolerance=v.tolerance,
            worst_relative_error=max(v.errors.values()),
            max_frequency_within_tolerance_Hz=v.max_frequency,
            quasi_static=v.ok,
        ),
        transfer_function=TransferFunction(
            rates_per_s=d.rom.lam.tolist(),
            residues_K_per_J=d.rom.r.tolist(),
            verified_max_relative_error=d.check.max_error,
        ),
        discretization_relative_change=d.discretization,
    )


def _adaptive(a: AdaptiveResult) -> AdaptiveMesh:
    return AdaptiveMesh(
        target_relative_error=a.accuracy, estimated_error_K_per_W=a.error, met=a.met, iterations=len(a.history)
    )
