"""Random probe designs across the design space, written as a user writes them (unit-suffixed TOML keys).

One generator for the property test (``tests/test_design_space.py``, via hypothesis) and for the
long runs that look for the next failure (``benchmarks/design_space.py``): :func:`draw` turns a
``random.Random`` into a raw design mapping.  Ranges are the usual ones of SiN-body thermal probes
(Shi et al., JMEMS 2001; commercial SiN cantilevers) and a little beyond, so that the loader's
refusals are exercised too.  Materials are the reference's.
"""

from __future__ import annotations

import copy
import math
import random
import tomllib
from typing import Any

from probe_fem.design.load import embedded_design_path

PLANFORMS = ("rectangular", "tapered", "v")
SHAPES = ("pyramid", "cone")
LEGS = ("back", "sides", "shell")


def _log(rng: random.Random, lo: float, hi: float) -> float:
    return float(f"{math.exp(rng.uniform(math.log(lo), math.log(hi))):.4g}")


def _lin(rng: random.Random, lo: float, hi: float) -> float:
    return float(f"{rng.uniform(lo, hi):.4g}")


def draw(
    rng: random.Random,
    planform: str | None = None,
    shape: str | None = None,
    legs: str | None = None,
    small: bool = False,
    environment: bool = False,
) -> dict:
    """A raw design (as parsed TOML) for the given (or a random) planform × tip shape × leg layout.

    ``small``: bodies up to 40 µm long and tips up to 5 µm high (meshes of seconds, for the default tests).
    ``environment``: also draw an [environment] (after the geometry, so the geometry of a seed is the same)."""
    raw = tomllib.loads(embedded_design_path().read_text(encoding="utf-8"))
    out: dict[str, Any] = {k: copy.deepcopy(raw[k]) for k in ("materials", "source", "sink")}
    planform = planform or rng.choice(PLANFORMS)
    shape = shape or rng.choice(SHAPES)
    legs = legs or rng.choice(LEGS)
    out["name"] = f"generated-{planform}-{shape}-{legs}"
    films = {"tc": _lin(rng, 30, 100), "ins": _lin(rng, 50, 150), "el": _lin(rng, 50, 200)}
    stack_nm = sum(films.values())
    out["tip"] = _tip(rng, shape, stack_nm, 5.0 if small else 10.0)
    out["thermocouple"] = _thermocouple(rng, legs, films, out["tip"])
    out["insulator"] = {"thickness_nm": films["ins"], "material": "sin_pecvd"}
    out["body"] = _body(rng, planform, out["tip"], out["thermocouple"], 40.0 if small else 250.0)
    wide = out["body"].get("arm_width_um", out["body"]["width_um"])
    out["electrode"] = {"thickness_nm": films["el"], "material": "au_film", "width_um": _lin(rng, 0.4, 0.95) * wide}
    if environment:
        out["environment"] = _environment(rng)
    return out


def _environment(rng: random.Random) -> dict:
    """Gas at a pressure from UHV to 2 atm in a random unit, a random accommodation, radiation, often a sample."""
    unit, factor = rng.choice([("Pa", 1.0), ("mbar", 100.0), ("Torr", 101325.0 / 760.0), ("atm", 101325.0)])
    env: dict[str, Any] = {
        f"pressure_{unit}": _log(rng, 1e-4, 2e5) / factor,
        "gas": rng.choice(["air", "N2", "He", "Ar"]),
        "accommodation": _lin(rng, 0.2, 1.0),
        "radiation": rng.random() < 0.8,
    }
    if rng.random() < 0.6:
        env["sample"] = {"tilt_deg": _lin(rng, 0.0, 20.0)}
    return env


def _tip(rng: random.Random, shape: str, stack_nm: float, highest_um: float) -> dict:
    height = _lin(rng, 2.0, highest_um)
    angle = math.radians(rng.uniform(45, 70))
    # the coated apex must be blunter than its films: stack·tan(θ/2) (pyramid) or the stack (cone)
    sharpest = stack_nm * (math.tan(angle / 2) if shape == "pyramid" else 1.0)
    apex_nm = float(f"{sharpest * _log(rng, 0.9, 3.0):.4g}")
    return {
        "height_um": height,
        "base_um": float(f"{2 * height / math.tan(angle) + 2 * apex_nm * 1e-3:.4g}"),
        "apex_radius_nm": apex_nm,
        "setback_um": _lin(rng, 0.0, 3.0),
        "material": "sin_lpcvd",
        "shape": shape,
    }


def _thermocouple(rng: random.Random, legs: str, films: dict, tip: dict) -> dict:
    cap_nm = tip["apex_radius_nm"] if tip["shape"] == "cone" else 0.0
    tc = {
        "thickness_nm": films["tc"],
        "leg_width_um": _lin(rng, 1.0, 4.0),
        "leg_gap_um": _lin(rng, 0.5, 3.0),
        "junction_below_apex_nm": float(f"{films['ins'] + films['el'] + cap_nm + _log(rng, 50, 1000):.4g}"),
        "junction_length_nm": _log(rng, 50, 300),
        "au_material": "au_film",
        "cr_material": "cr_film",
        "tip_legs": legs,
    }
    if legs != "shell":
        tc["tip_leg_width_um"] = _lin(rng, 0.3, 1.5)
    if legs == "back":  # mostly narrower than the tip at the band (~1.4 × the band's depth below the core's top)
        depth_um = (tc["junction_below_apex_nm"] - films["ins"] - films["el"] - cap_nm + tc["junction_length_nm"]) / 1e3
        tc["tip_leg_gap_um"] = float(f"{max(0.05, _lin(rng, 0.1, 1.1) * 1.4 * depth_um):.3g}")
    return tc


def _body(rng: random.Random, planform: str, tip: dict, tc: dict, longest_um: float) -> dict:
    foot = tip["base_um"] + 1.0  # the coated footprint, roughly
    route = 2.5 * tc["leg_width_um"] + (tc["leg_width_um"] if tc["tip_legs"] == "back" else 0.0)  # legs before it
    shortest = max(10.0, 2 * foot + tip["setback_um"] + 2)
    body: dict[str, Any] = {
        "length_um": _log(rng, shortest, max(longest_um, shortest + 5)),
        "width_um": _lin(rng, max(8.0, foot + 2), 60.0 if longest_um > 100 else 25.0),
        "thickness_um": _lin(rng, 0.3, 1.5),
        "material": "sin_lpcvd",
        "planform": planform,
    }
    if planform == "tapered":
        body["end_width_um"] = float(f"{body['width_um'] * _lin(rng, 0.3, 1.0):.4g}")
    elif planform == "v":
        body["arm_width_um"] = _lin(rng, 3.0, 15.0)
        body["opening_angle_deg"] = _lin(rng, 0.0, 60.0)
        body["end_length_um"] = float(f"{foot + tip['setback_um'] + route + _lin(rng, 0.0, 10.0):.4g}")
        body["width_um"] = max(body["width_um"], float(f"{2.2 * body['arm_width_um'] + 1:.4g}"))
        body["length_um"] = max(body["length_um"], float(f"{body['end_length_um'] + 5:.4g}"))
    return body
