"""Calibration files are validated in full: every section that `plan`, `simulate`, `analyze` and `export`
consume, not only R_P and S_TC.

A property test (hypothesis, fixed seed in CI; ``--hypothesis-profile=long`` for many more) mutates the
shipped calibration and older valid files (schema 1.0, 1.1): each generated file is either refused with a
CalibrationError, or it loads and then satisfies the invariants below (checked here independently of the
schema) and is usable: written back, exported, converted.  Never another exception.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe_fem.calibration import Calibration, CalibrationError
from probe_fem.calibration.exporters import csv_, mat
from probe_fem.calibration.schema import embedded_calibration_path
from probe_fem.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = embedded_calibration_path()
PACKAGED = ROOT / "probe_fem" / "calibration" / "data" / "ntistp.json"
OLDER = sorted((ROOT / "tests" / "data" / "calib").glob("*.json"))  # schema 1.0 and 1.1 files from git history
BASES = [SHIPPED, *OLDER]
TEXTS = {p: p.read_text(encoding="utf-8") for p in BASES}
UNITS = {"R_P": "K/W", "R_P_fem": "K/W", "S_TC": "V/K"}
WRITERS = {"csv": csv_.write, "mat": mat.write}  # the exporters, without the atomic rename (and its fsync)
COUNTS = {"generated": 0, "refused": 0, "accepted": 0}


# ---------------------------------------------------------------- the invariants, independent of the schema
def _leaves(tree, path=()):
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else None
    if items is None:
        yield path, tree
        return
    for k, v in items:
        yield from _leaves(v, (*path, k))


def _written(raw, path):
    node = raw
    for k in path:
        if (isinstance(node, dict) and k in node) or (isinstance(node, list) and isinstance(k, int) and k < len(node)):
            node = node[k]
        else:
            return None  # a default, not written in the file
    return node


def _types_as_written(cal: Calibration, raw: dict) -> list[str]:
    """Every loaded number was written as a number (not true/false, not text), every flag as true/false."""
    out = []
    for path, value in _leaves(cal.model_dump()):
        w = _written(raw, path)
        if w is None:
            continue
        if isinstance(value, bool):
            ok = type(w) is bool
        elif isinstance(value, (int, float)):
            ok = type(w) in (int, float) and (isinstance(value, int) or math.isfinite(value))
        else:
            ok = type(w) is type(value)
        if not ok:
            out.append(f"{'.'.join(map(str, path))}: loaded {value!r} from {w!r}")
    return out


def _dynamics_problems(cal: Calibration) -> list[str]:
    d, out = cal.dynamics, []
    if d is None:
        return out
    times = [d.dominant_tau_s, d.t10_s, d.t63_s, d.t90_s, d.t999_s, d.mean_delay_s, *d.mode_tau_s]
    if not all(0 < t < math.inf for t in times):
        out.append("a time <= 0")
    if not d.t10_s <= d.t63_s <= d.t90_s <= d.t999_s:
        out.append("step times out of order")
    if not (d.f_3dB_Hz > 0 and len(d.mode_tau_s) == len(d.mode_weight_tc) >= 1):
        out.append("f_3dB or modes")
    m = d.modulation
    if not (0 < m.tolerance < 1 and m.frequency_Hz > 0 and m.quasi_static == (m.worst_relative_error <= m.tolerance)):
        out.append("modulation verdict")
    tf = d.transfer_function
    if tf is not None:
        if len(tf.rates_per_s) != len(tf.residues_K_per_J) or min(tf.rates_per_s) <= 0:
            return [*out, "transfer function: lengths or an unstable pole"]
        rom = tf.model()
        H = rom.H(2 * np.pi * np.array([0.0, 1.0, 1e3, 1e6]))
        if not (np.all(np.isfinite(H)) and rom.dc > 0 and abs(rom.dc - cal.R_P_fem.value) <= 0.01 * cal.R_P_fem.value):
            out.append(f"transfer function: H(0) = {rom.dc:g} K/W vs R_P_fem {cal.R_P_fem.value:g}")
    return out


def _network_problems(cal: Calibration) -> list[str]:
    n = cal.network
    if n is None:
        return []
    out = []
    positive = (n.R_apex_K_per_W, n.R_S_K_per_W, n.contact_radius_m, n.substrate_k_W_per_mK)
    if not (all(x > 0 for x in positive) and 0 < n.tolerance < 1 and 0 <= n.apex_minus_tc_fraction < 1):
        out.append("network ranges")
    if abs(n.apex_minus_tc_fraction - (1 - cal.R_P_fem.value / n.R_apex_K_per_W)) > 0.01:
        out.append("network: apex fraction does not follow from R_apex and R_P_fem")
    for j in n.junctions:
        if not (j.R_J_K_per_W > 0 and j.valid == (j.worst_relative_error <= n.tolerance)):
            out.append(f"junction {j.name}: R_J or verdict")
    return out


def violations(cal: Calibration, raw: dict) -> list[str]:
    """What is wrong with a loaded calibration (empty: it satisfies every invariant)."""
    out = _types_as_written(cal, raw)
    for name, unit in UNITS.items():
        q = getattr(cal, name)
        if not (q.unit == unit and 0 < q.value and 0 <= q.uncertainty <= q.value):
            out.append(f"{name}: {q}")
    if not re.fullmatch(r"[0-9]+\.[0-9]+", cal.schema_version):
        out.append(f"schema_version {cal.schema_version!r}")
    m = cal.mesh
    if not (m.dofs >= 1 and m.tetrahedra >= 1 and m.refine > 0):
        out.append("mesh summary")
    return out + _dynamics_problems(cal) + _network_problems(cal)


def usable(cal: Calibration, folder: Path) -> None:
    """What the commands do with a calibration: convert readings, write it back, export it."""
    q, u = cal.probe_power(1e-6, 1e-8)
    assert math.isfinite(float(q)) and math.isfinite(float(u))
    assert Calibration.from_json(cal.to_json()) == cal
    for fmt, write in WRITERS.items():
        write(cal, folder / f"c.{fmt}")
        assert (folder / f"c.{fmt}").stat().st_size > 0


# ---------------------------------------------------------------- generated files
def _paths(tree, path=()):
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for k, v in items:
        yield (*path, k)
        yield from _paths(v, (*path, k))


PATHS = {base: list(_paths(json.loads(text))) for base, text in TEXTS.items()}
ODD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
    st.sampled_from(["1.5", "", "true", "1e400", "²", "١٢"]),
    st.lists(st.floats(-10, 10), max_size=3),
    st.just({}),
)
FACTORS = [-1.0, 0.0, 1e-12, 0.5, 0.999, 1.001, 2.0, 1e6, 1e300]
VERSIONS = ["².0", "1.2.3", "١.٢", "1", "01.2", " 1.2", "1.2\n", "9.0", "1.999", "", "1.2a"]


def _has(node, key) -> bool:
    return (isinstance(node, dict) and key in node) or (
        isinstance(node, list) and isinstance(key, int) and key < len(node)
    )


def _mutate(raw, paths, data) -> None:
    path = data.draw(st.sampled_from(paths))
    node = raw
    for k in path:
        if not _has(node, k):
            return  # taken away or replaced by an earlier mutation
        parent, node = node, node[k]
    node, old = parent, node
    action = data.draw(st.sampled_from(["set", "scale", "scale", "swap", "delete", "add", "nudge", "nudge"]))
    if action == "nudge" and type(old) is float:  # a value a later run could have written
        node[path[-1]] = old * data.draw(st.floats(0.999, 1.001))
    elif action == "scale" and type(old) in (int, float):
        node[path[-1]] = old * data.draw(st.sampled_from(FACTORS))
    elif action == "swap" and isinstance(node, dict):
        other = data.draw(st.sampled_from(sorted(node)))
        node[path[-1]], node[other] = node[other], old
    elif action == "swap" and isinstance(node, list) and node:
        i = data.draw(st.integers(0, len(node) - 1))
        node[path[-1]], node[i] = node[i], old
    elif action == "delete" and isinstance(node, dict):
        del node[path[-1]]
    elif action == "add" and isinstance(node, dict):
        node[data.draw(st.sampled_from(["x", "note", "unit", "t50_s", "valid"]))] = data.draw(ODD)
    else:
        node[path[-1]] = data.draw(ODD)


def _text_mutation(text: str, data) -> str:
    """What json.dumps cannot make: odd schema versions, integers of thousands of digits, deep nesting."""
    kind = data.draw(st.sampled_from(["none", "none", "none", "version", "digits", "deep"]))
    keys = re.findall(r'"(\w+)": -?[0-9]', text)
    if kind == "version":
        version = json.dumps(data.draw(st.sampled_from(VERSIONS)), ensure_ascii=data.draw(st.booleans()))
        return re.sub(r'"schema_version": "[^"]*"', lambda _: f'"schema_version": {version}', text)
    if kind in ("digits", "deep") and keys:
        key = data.draw(st.sampled_from(keys))
        n = data.draw(st.sampled_from([70, 999, 2000, 5000]))
        value = "9" * n if kind == "digits" else "[" * n + "]" * n
        return re.sub(rf'"{key}": -?[0-9][^,\n}}\]]*', lambda _: f'"{key}": {value}', text, count=1)
    return text


@st.composite
def calibration_texts(draw) -> str:
    """A calibration file: a shipped or older valid one with one to three mutations."""
    data = draw(st.data())
    base = draw(st.sampled_from(BASES))
    raw = json.loads(TEXTS[base])
    for _ in range(draw(st.integers(1, 3))):
        _mutate(raw, PATHS[base], data)
    return _text_mutation(json.dumps(raw, indent=1), data)


_FOLDER = tempfile.TemporaryDirectory(prefix="probe-fem-calibrations-")


@given(calibration_texts())
def test_a_calibration_file_loads_only_if_it_is_valid_and_usable(text):
    COUNTS["generated"] += 1
    try:
        cal = Calibration.from_json(text, "generated.json")
    except CalibrationError as exc:
        COUNTS["refused"] += 1
        assert str(exc).strip()
        return
    COUNTS["accepted"] += 1
    assert violations(cal, json.loads(text)) == []
    usable(cal, Path(_FOLDER.name))


def test_report_how_many_generated_calibrations_were_refused():
    print("generated calibration files:", COUNTS)
    assert COUNTS["refused"] > 0 and COUNTS["accepted"] > 0


# ---------------------------------------------------------------- files that must load, files that must not
@pytest.mark.parametrize("path", [SHIPPED, PACKAGED, *OLDER], ids=lambda p: p.name)
def test_valid_files_of_every_schema_version_load(path):
    cal = Calibration.load(path)
    assert cal.schema_version in ("1.0", "1.1", "1.2", "1.3", "1.4")
    assert violations(cal, json.loads(path.read_text())) == []


def _edit(path: tuple, value):
    def apply(raw: dict) -> None:
        node = raw
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value(node[path[-1]]) if callable(value) else value

    return apply


def _swap_t10_t63(raw: dict) -> None:
    d = raw["dynamics"]
    d["t10_s"], d["t63_s"] = d["t63_s"], d["t10_s"]


def _one_residue_less(raw: dict) -> None:
    raw["dynamics"]["transfer_function"]["residues_K_per_J"].pop()


BAD = {
    "t10 after t63": (_swap_t10_t63, "dynamics.t63_s"),
    "tau = 0": (_edit(("dynamics", "dominant_tau_s"), 0.0), "dynamics.dominant_tau_s"),
    "tau = true": (_edit(("dynamics", "dominant_tau_s"), True), "dynamics.dominant_tau_s = True"),
    "f3dB = false": (_edit(("dynamics", "f_3dB_Hz"), False), "dynamics.f_3dB_Hz = False"),
    "t90 as text": (_edit(("dynamics", "t90_s"), "2.4e-05"), "dynamics.t90_s = '2.4e-05'"),
    "negative mode": (_edit(("dynamics", "mode_tau_s", 3), -1e-6), "dynamics.mode_tau_s.3"),
    "modes and weights": (_edit(("dynamics", "mode_weight_tc"), lambda w: w[:-1]), "dynamics.mode_weight_tc"),
    "unstable pole": (_edit(("dynamics", "transfer_function", "rates_per_s", 0), -82046.5), "rates_per_s.0"),
    "infinite residue": (_edit(("dynamics", "transfer_function", "residues_K_per_J", 2), 1e400), "residues_K_per_J.2"),
    "poles and residues": (_one_residue_less, "residues_K_per_J"),
    "negative steady rise": (
        _edit(("dynamics", "transfer_function", "residues_K_per_J"), lambda r: [-x for x in r]),
        "transfer_function",
    ),
    "H(0) far from R_P_fem": (
        _edit(("dynamics", "transfer_function", "residues_K_per_J"), lambda r: [2 * x for x in r]),
        "R_P_fem",
    ),
    "quasi-static verdict": (_edit(("dynamics", "modulation", "quasi_static"), False), "modulation.quasi_static"),
    "junction verdict": (_edit(("network", "junctions", 0, "valid"), False), "network.junctions.0.valid"),
    "apex fraction": (_edit(("network", "apex_minus_tc_fraction"), 1.5), "network.apex_minus_tc_fraction"),
    "network tolerance": (_edit(("network", "tolerance"), True), "network.tolerance = True"),
    "dofs = 1.5": (_edit(("mesh", "dofs"), 1.5), "mesh.dofs = 1.5"),
    "dofs huge": (_edit(("mesh", "dofs"), 10**30), "mesh.dofs"),
    "unit": (_edit(("R_P", "unit"), "mK/W"), "R_P.unit = 'mK/W'"),
    "time stamp": (_edit(("created_utc",), "yesterday"), "created_utc = 'yesterday'"),
    "superscript version": (_edit(("schema_version",), "².0"), "schema_version = '².0'"),
    "three-part version": (_edit(("schema_version",), "1.2.3"), "schema_version = '1.2.3'"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_an_invalid_section_is_refused_naming_the_field(name):
    edit, field = BAD[name]
    raw = json.loads(SHIPPED.read_text())
    edit(raw)
    with pytest.raises(CalibrationError) as err:
        Calibration.from_json(json.dumps(raw), "bad.json")
    text = str(err.value)
    assert field in text and "allowed" in text, text


def test_an_integer_of_5000_digits_is_refused_naming_its_field():
    text = re.sub(r'"dofs": \d+', '"dofs": ' + "9" * 5000, SHIPPED.read_text(), count=1)
    with pytest.raises(CalibrationError, match=r"mesh\.dofs = 999999…\(5000 digits\): .*allowed \(0, 1e\+12\]"):
        Calibration.from_json(text, "long.json")


@pytest.mark.parametrize(
    "text", ["²", "deep"], ids=["superscript-version", "deep-nesting"]
)  # what gave tracebacks from export
def test_export_refuses_a_bad_calibration_in_one_line(text, tmp_path, capsys):
    bad = SHIPPED.read_text()
    if text == "²":
        bad, n = re.subn(r'"schema_version": "[0-9.]+"', '"schema_version": "\u00b2.0"', bad)
        assert n == 1
    else:
        bad = bad.replace('"probe": "ntistp"', '"probe": ' + "[" * 2000 + "]" * 2000)
    path = tmp_path / "bad.json"
    path.write_text(bad, encoding="utf-8")
    assert main(["export", str(path), "--format", "csv", "--out", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]
