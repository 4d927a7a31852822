"""Trace files and demodulation under bad input: every problem is a TraceError with one message, never a
traceback; what a real record has (isolated bias glitches) is tolerated, excluded and counted.

Plain tests, one per class of problem (reading, validation, demodulation), then property-based suites
(hypothesis): mutated trace arrays through ``Traces.from_arrays`` + ``demodulate``, and random or damaged
``.npz``/CSV files through ``Traces.load``.  Each either gives all-finite results or raises TraceError.

The suites run a bounded, derandomized number of examples (about 20 s in all).  ``HYPOTHESIS_PROFILE=long``
(or ``--hypothesis-profile=long`` once the profile is registered before pytest configures, i.e. in
conftest.py) runs the profile's larger count instead.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from probe_fem.analysis import simulate
from probe_fem.analysis import traces as traces_module
from probe_fem.analysis.demodulation import PhaseResult, demodulate, levels
from probe_fem.analysis.landauer import preset
from probe_fem.analysis.noise import NoiseModel
from probe_fem.analysis.traces import TraceError, Traces
from probe_fem.calibration import Calibration
from probe_fem.calibration.schema import embedded_calibration_path

# ------------------------------------------------------------------ hypothesis profiles
settings.register_profile(
    "traces",
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
try:
    settings.get_profile("long")  # registered elsewhere (conftest.py, another module): keep that one
except InvalidArgument:
    settings.register_profile("long", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_CHOSEN = os.environ.get("HYPOTHESIS_PROFILE") or settings.get_current_profile_name()
if _CHOSEN == "default":  # no profile selected on the command line or in the environment
    settings.load_profile("traces")
LONG = _CHOSEN == "long"


def bounded(n: int) -> settings:
    """``n`` derandomized examples, or the long profile's count when that profile was chosen."""
    if LONG:
        return settings(settings.get_profile("long"), deadline=None)
    return settings(
        max_examples=n, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
    )


ROOT = Path(__file__).resolve().parents[1]
SHIPPED = embedded_calibration_path()
CAL = Calibration.load(SHIPPED)
QUIET = NoiseModel.white_only(1e-9)
PERIOD = 1 / 12.25


def record(seconds=1.0, fs=2000.0, junctions=2, sequence="+0-", noise=QUIET, seed=0) -> Traces:
    tr, _ = simulate(preset("bdnc"), [1.08], CAL, junctions, seconds, fs, noise=noise, seed=seed, sequence=sequence)
    return tr


def columns(tr: Traces) -> dict[str, np.ndarray]:
    return {"t": tr.t.copy(), "v_tc": tr.v_tc.copy(), "bias": tr.bias.copy(), "current": tr.current.copy(),
            "segment": tr.segment.copy()}  # fmt: skip


def assert_finite(results) -> None:
    assert results, "demodulate returned no amplitude"
    for pair in results:
        for r in pair:
            values = r.to_dict()
            assert all(math.isfinite(x) for x in values.values()), values
            assert isinstance(r.glitches, int) and r.glitches >= 0


BASE = record()  # 2 segments x 1 s at 2 kHz, almost noise-free


# ------------------------------------------------------------------ 1. reading: one class per case
def _npz_bytes(**cols) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **cols)
    return buf.getvalue()


def _valid_cols() -> dict[str, np.ndarray]:
    return dict(zip(traces_module.COLUMNS, (BASE.t, BASE.v_tc, BASE.bias, BASE.current, BASE.segment)))


def _huge_header_npz() -> bytes:
    """An archive whose t_s header declares 10**12 samples (8 TB) over a few bytes of data."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, col in _valid_cols().items():
            member = io.BytesIO()
            if name == "t_s":
                header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
                np.lib.format.write_array_header_1_0(member, header)
                member.write(b"\0" * 64)
            else:
                np.lib.format.write_array(member, col)
            zf.writestr(name + ".npy", member.getvalue())
    return buf.getvalue()


def _corrupt_compressed() -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **_valid_cols())
    data = bytearray(buf.getvalue())
    for k in range(200, 260):  # inside the first member's deflate stream
        data[k] ^= 0xA5
    return bytes(data)


def _unicode_csv() -> bytes:
    return b"t_s,V_TC_V,bias_V,I_A\n0,0,0,0\n" + b"1,\xe9,0,0\n"


READ_CASES = {
    # name: (file name, content or None for no file, words the message must hold)
    "missing": ("absent.npz", None, "no such file"),
    "empty-npz": ("e.npz", b"", "empty"),
    "truncated-npz": ("t.npz", _npz_bytes(**_valid_cols())[:3000], "not an .npz"),
    "corrupt-npz": ("c.npz", _corrupt_compressed(), "cannot read"),
    "not-a-zip": ("n.npz", b"PK\x03\x04 this is not a zip" * 10, "not an .npz"),
    "missing-column": ("m.npz", _npz_bytes(**{k: v for k, v in _valid_cols().items() if k != "I_A"}), "missing"),
    "object-column": ("o.npz", _npz_bytes(**{**_valid_cols(), "t_s": BASE.t.astype(object)}), "dtype object"),
    "two-d-column": ("d.npz", _npz_bytes(**{**_valid_cols(), "V_TC_V": BASE.v_tc.reshape(-1, 2)}), "1-D"),
    "huge-header": ("h.npz", _huge_header_npz(), "declares"),
    "empty-csv": ("e.csv", b"", "empty"),
    "header-only-csv": ("h.csv", b"t_s,V_TC_V,bias_V,I_A\n", "no data rows"),
    "non-utf8-csv": ("u.csv", _unicode_csv(), "not UTF-8"),
    "non-numeric-csv": ("x.csv", b"t_s,V_TC_V,bias_V,I_A\n0,0,0,0\n1,abc,0,0\n", "cannot parse"),
    "ragged-csv": ("r.csv", b"t_s,V_TC_V,bias_V,I_A\n0,0,0,0\n1,0,0\n", "cannot parse"),
    "missing-column-csv": ("c.csv", b"t_s,V_TC_V,bias_V\n0,0,0\n", "missing ['I_A']"),
    "short-csv": ("s.csv", b"t_s,V_TC_V,bias_V,I_A\n0,0,0,0\n1,0,0,0\n", "at least 6"),
}


@pytest.mark.parametrize("case", list(READ_CASES))
def test_unreadable_files_are_trace_errors_naming_the_file(case, tmp_path):
    name, content, words = READ_CASES[case]
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(TraceError) as info:
        Traces.load(path)
    message = str(info.value)
    assert str(path) in message and words in message and "\n" not in message, message


def test_analyze_exits_2_with_one_line_on_a_truncated_file(tmp_path, capsys):
    from probe_fem.cli.main import main

    bad = tmp_path / "t.npz"
    BASE.save(bad)
    bad.write_bytes(bad.read_bytes()[:-100])
    assert main(["analyze", str(bad), "--calibration", str(SHIPPED), "--out", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "Traceback" not in err


def test_saved_files_read_back(tmp_path):
    epoch = Traces(BASE.t + 1.7e9, BASE.v_tc, BASE.bias, BASE.current, BASE.segment)  # Unix-time stamps
    for suffix in (".npz", ".csv"):
        back = Traces.load(epoch.save(tmp_path / f"t{suffix}"))
        assert np.array_equal(back.t, epoch.t) and np.array_equal(back.segment, BASE.segment)
        assert back.fs == pytest.approx(2000.0, rel=1e-3)  # float64 resolution at 1.7e9 s: 2.4e-7 s


# ------------------------------------------------------------------ 2. validation in Traces
def test_outlier_time_stamp_inside_a_segment_is_refused():
    c = columns(BASE)
    c["t"][700] += 0.2e-3  # 1.4 steps after the previous sample, 0.6 before the next: both allowed
    Traces.from_arrays(**c)
    c["t"][700] += 0.1e-3  # 1.6 and 0.4 steps
    with pytest.raises(TraceError, match="non-uniform time stamps in segment 0"):
        Traces.from_arrays(**c)
    c = columns(BASE)
    c["t"][-1] += 1e9  # the outlier that asked for 8.9 TiB
    with pytest.raises(TraceError, match="non-uniform time stamps in segment 1"):
        Traces.from_arrays(**c)


def test_gaps_between_segments_are_allowed():
    c = columns(BASE)
    c["t"][c["segment"] == 1] += 100.0
    tr = Traces.from_arrays(**c)
    assert tr.fs == pytest.approx(2000.0)
    assert_finite(demodulate(tr, CAL))


def test_repeated_or_shuffled_time_stamps_are_refused():
    c = columns(BASE)
    c["t"][5] = c["t"][4]
    with pytest.raises(TraceError, match="increase strictly"):
        Traces.from_arrays(**c)


def test_too_few_samples_are_refused():
    c = {k: v[:5] for k, v in columns(BASE).items()}
    with pytest.raises(TraceError, match="at least 6"):
        Traces.from_arrays(**c)


def test_sampling_rate_must_be_finite():
    n = 10
    t = np.arange(n) * 5e-324  # subnormal steps: 1/step overflows
    with pytest.raises(TraceError, match="no finite sampling rate"):
        Traces.from_arrays(t, np.zeros(n), np.zeros(n), np.zeros(n))


def test_sample_count_is_bounded(monkeypatch):
    monkeypatch.setattr(traces_module, "MAX_SAMPLES", 1000)
    with pytest.raises(TraceError, match="at most 1,000"):
        Traces.from_arrays(**columns(BASE))


@pytest.mark.parametrize("dtype", [complex, object, str])
def test_non_real_columns_are_refused(dtype):
    c = columns(BASE)
    c["bias"] = c["bias"].astype(dtype)
    with pytest.raises(TraceError, match="dtype"):
        Traces.from_arrays(**c)


def test_segment_ids_must_be_integers():
    c = columns(BASE)
    c["segment"] = c["segment"] + 0.5
    with pytest.raises(TraceError, match="integer ids"):
        Traces.from_arrays(**c)


# ------------------------------------------------------------------ 3. demodulation
def test_segment_without_modulation_is_refused():
    c = columns(BASE)
    c["bias"][c["segment"] == 1] = 0.0
    with pytest.raises(TraceError, match="segment 1: the bias never leaves 0 V"):
        demodulate(Traces.from_arrays(**c), CAL)


def test_segment_shorter_than_two_periods_is_refused():
    c = {k: v[: int(1.9 * PERIOD * 2000)] for k, v in columns(BASE).items()}
    with pytest.raises(TraceError, match="shorter than 2 modulation periods"):
        demodulate(Traces.from_arrays(**c), CAL, period=PERIOD)


def test_flat_thermocouple_channel_is_refused():
    c = columns(BASE)
    c["v_tc"][:] = 1e-6
    with pytest.raises(TraceError, match="flat thermocouple channel"):
        demodulate(Traces.from_arrays(**c), CAL)


def test_dead_current_channel_is_refused():
    c = columns(BASE)
    c["current"][:] = 0.0
    with pytest.raises(TraceError, match=r"current is 0 A.*Q_total"):
        demodulate(Traces.from_arrays(**c), CAL)


def test_missing_polarity_is_refused():
    c = columns(BASE)
    c["bias"][c["bias"] < 0] = 0.0
    with pytest.raises(TraceError, match="no -V_M phase"):
        demodulate(Traces.from_arrays(**c), CAL)


@pytest.mark.parametrize("sequence", ["+0-", "+0-0"])
def test_one_huge_glitch_leaves_V_M_and_the_result_unchanged(sequence):
    tr = record(sequence=sequence)
    ((clean_p, clean_m),) = demodulate(tr, CAL)
    c = columns(tr)
    k = int(np.flatnonzero(c["bias"] > 0)[40])  # inside a +V_M phase
    c["bias"][k] *= 1000.0
    _, vm, glitch = levels(c["bias"][c["segment"] == 0])
    assert vm == 1.08 and int(glitch.sum()) == 1
    ((p, m),) = demodulate(Traces.from_arrays(**c), CAL)
    assert p.V_M == clean_p.V_M and m.V_M == clean_m.V_M
    assert abs(p.dV - clean_p.dV) < 0.1 * p.u_dV and abs(m.dV - clean_m.dV) < 0.1 * m.u_dV
    assert p.Q_total == pytest.approx(clean_p.Q_total, rel=1e-3)
    assert p.to_dict()["glitches"] == m.to_dict()["glitches"] == 1 and clean_p.glitches == 0


def test_mid_level_glitches_are_excluded_and_counted():
    c = columns(BASE)
    plus = np.flatnonzero(c["bias"] > 0)
    c["bias"][plus[[10, 200, 400]]] = 0.5 * 1.08  # between 0.25 and 0.75 V_M
    c["bias"][plus[600]] = -3.0  # above 1.5 V_M
    ((p, m),) = demodulate(Traces.from_arrays(**c), CAL)
    assert p.glitches == m.glitches == 4
    assert_finite([(p, m)])


def test_too_many_glitches_are_not_a_three_level_bias():
    c = columns(BASE)
    c["bias"] = 1.08 * np.sin(2 * np.pi * 12.25 * c["t"])  # a sine: a third of it between the levels
    with pytest.raises(TraceError, match="not a three-level"):
        demodulate(Traces.from_arrays(**c), CAL)


def test_fraction_uncertainty_is_defined_at_zero_heat():
    r = PhaseResult(1.0, 0.0, 1e-9, 0.0, 1e-4, 0.0, 1e-10, 1e-6, 1e-9, 10)
    assert r.fraction == 0.0 and math.isfinite(r.u_fraction) and r.u_fraction == pytest.approx(1e-4)


def test_drift_spline_size_is_bounded():
    with pytest.raises(TraceError, match="knot_periods"):
        demodulate(BASE, CAL, knot_periods=1e-9)


# ------------------------------------------------------------------ property-based: mutated arrays
SMALL = record(seconds=0.5, fs=400.0, noise=None, seed=3)  # 2 x 200 samples, default noise
COLS = ("t", "v_tc", "bias", "current", "segment")
SPECIAL = [math.nan, math.inf, -math.inf, 1e308, -1e308, 1e300, 1e-300, 5e-324, 0.0, -1.0, 1e3, -1e3]
VALUES = st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=True, allow_infinity=True))
DTYPES = [np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_, np.complex128, object, str]
OPS = [
    "replace", "replace", "glitch", "glitch", "glitch", "swap_t", "duplicate_t", "shift_t", "truncate", "truncate",
    "truncate_one", "zero", "flatten", "scale", "scale", "dtype", "dtype", "segment", "reverse", "drop_phase", "two_d",
]  # fmt: skip


@st.composite
def mutated(draw):  # noqa: C901 -- a flat dispatch over the mutation kinds, one short branch each
    c: dict[str, np.ndarray] = columns(SMALL)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(OPS))
        col = "bias" if op == "glitch" else "t" if op.endswith("_t") else draw(st.sampled_from(COLS))
        a = np.array(c[col], copy=True)
        n = len(c["t"]) if np.ndim(c["t"]) else 0
        i = draw(st.integers(0, 10**6))
        flat = a.ndim == 1 and a.size > 0  # the sample-wise operations need a 1-D column
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # casts that lose values are the point here
            if op == "replace" and flat:
                a = a.astype(float)
                a[i % a.size : i % a.size + draw(st.integers(1, 3))] = draw(VALUES)
            elif op == "glitch" and flat:
                a = a.astype(float)
                factor = draw(st.sampled_from([1000.0, -1000.0, 0.5, 0.3, 1.6, -1.0, 1e300]))
                a[i % a.size] = a[i % a.size] * factor if a[i % a.size] else 0.5 * 1.08
            elif op == "swap_t" and flat:
                j = draw(st.integers(0, a.size - 1))
                a[i % a.size], a[j] = a[j], a[i % a.size]
            elif op == "duplicate_t" and flat and a.size > 1:
                k = 1 + i % (a.size - 1)
                a[k] = a[k - 1]
            elif op == "shift_t" and flat:
                a = a.astype(float)
                a[i % a.size :] += draw(st.sampled_from([1e-4, 1e-3, -1e-3, 100.0, 1e9, -1e9]))
            elif op == "truncate":
                lo = draw(st.integers(0, n))
                hi = draw(st.integers(lo, n))
                c = {k: v[lo:hi] for k, v in c.items()}
                continue
            elif op == "truncate_one":
                a = a[: draw(st.integers(0, len(a)))] if a.ndim else a
            elif op == "zero":
                a = np.zeros_like(a)
            elif op == "flatten":
                a = np.full(a.shape, draw(st.sampled_from([0.0, 1.0, -2.5, 1e-9])))
            elif op == "scale" and a.dtype.kind in "biuf":
                a = a * draw(st.sampled_from([1e300, 1e-300, -1.0, 1e-20, 1e20, 0.5]))
            elif op == "dtype":
                dtype = draw(st.sampled_from(DTYPES))
                try:
                    a = a.astype(dtype)
                except (ValueError, TypeError):  # a column already turned into text stays text
                    pass
            elif op == "segment" and n:
                col = "segment"
                if draw(st.booleans()):
                    a = np.zeros(n, dtype=np.int64)
                    a[i % n :] = draw(st.integers(-3, 5))
                else:
                    a = np.asarray(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
            elif op == "reverse" and a.ndim:
                a = a[::-1]
            elif op == "drop_phase" and a.dtype.kind in "biuf":
                col, a = "bias", np.asarray(c["bias"], float).copy()
                level = draw(st.sampled_from(["+", "-", "0"]))
                if level == "0":
                    a[a == 0] = 1.08
                else:
                    a[(a > 0) if level == "+" else (a < 0)] = 0.0
            elif op == "two_d" and a.size % 2 == 0:
                a = a.reshape(-1, 2)
        c[col] = a
    return c


def _demodulate_or_refuse(c: dict, **kw) -> None:
    try:
        tr = Traces.from_arrays(**c)
        results = demodulate(tr, CAL, **kw)
    except TraceError as exc:
        assert str(exc), "a TraceError without a message"
        return
    assert_finite(results)


@bounded(1500)
@given(mutated())
def test_mutated_arrays_give_finite_results_or_trace_errors(c):
    _demodulate_or_refuse(c)


ARGS = st.one_of(st.sampled_from([math.nan, math.inf, -1.0, 0.0, 1e-9, 1e9]), st.floats(1e-4, 10.0))


@bounded(300)
@given(period=ARGS, dead_time=st.one_of(st.none(), ARGS), knot_periods=ARGS)
def test_bad_arguments_give_finite_results_or_trace_errors(period, dead_time, knot_periods):
    _demodulate_or_refuse(columns(SMALL), period=period, dead_time=dead_time, knot_periods=knot_periods)


# ------------------------------------------------------------------ property-based: damaged files
_TMP = tempfile.TemporaryDirectory(prefix="traces-hardening-")
_NPZ = {}
for _kind, _save in (("compressed", np.savez_compressed), ("stored", np.savez)):
    _buf = io.BytesIO()
    _save(_buf, **dict(zip(traces_module.COLUMNS, (SMALL.t, SMALL.v_tc, SMALL.bias, SMALL.current, SMALL.segment))))
    _NPZ[_kind] = _buf.getvalue()
_CSV = "t_s,V_TC_V,bias_V,I_A,segment\n" + "\n".join(
    ",".join(f"{x:.10g}" for x in row) for row in zip(SMALL.t, SMALL.v_tc, SMALL.bias, SMALL.current, SMALL.segment)
)


def _load_or_refuse(content: bytes, suffix: str) -> None:
    path = Path(_TMP.name) / f"x{suffix}"
    path.write_bytes(content)
    try:
        tr = Traces.load(path)
    except TraceError as exc:
        assert str(path) in str(exc), str(exc)
        return
    _demodulate_or_refuse(columns(tr))


@st.composite
def damaged_npz(draw) -> bytes:
    data = bytearray(_NPZ[draw(st.sampled_from(sorted(_NPZ)))])
    how = draw(st.sampled_from(["truncate", "flip", "flip", "splice", "random"]))
    if how == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if how == "splice":
        lo = draw(st.integers(0, len(data)))
        hi = draw(st.integers(lo, len(data)))
        return bytes(data[:lo]) + draw(st.binary(max_size=64)) + bytes(data[hi:])
    return draw(st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06"])) + draw(st.binary(max_size=512))


@bounded(600)
@given(damaged_npz())
def test_damaged_npz_files_load_or_raise_trace_error(content):
    _load_or_refuse(content, ".npz")


TOKENS = ["nan", "inf", "-inf", "", "abc", "1e400", "0x10", " ", "1,2", "\x00", "é", "--1", "1e-400", "1_0", "#"]


@st.composite
def damaged_csv(draw) -> bytes:
    how = draw(st.sampled_from(["text", "bytes", "cells", "cells", "lines", "encoding"]))
    if how == "text":
        return draw(st.text(max_size=300)).encode("utf-8", "surrogatepass")
    if how == "bytes":
        return draw(st.binary(max_size=300))
    lines = _CSV.split("\n")
    if how == "cells":
        for _ in range(draw(st.integers(1, 5))):
            r = draw(st.integers(0, len(lines) - 1))
            cells = lines[r].split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=4)))
            lines[r] = ",".join(cells)
        return "\n".join(lines).encode("utf-8", "surrogatepass")
    if how == "lines":
        lo = draw(st.integers(0, len(lines)))
        hi = draw(st.integers(lo, len(lines)))
        text = "\n".join(lines[:lo] + lines[hi:])
        return text[: draw(st.integers(0, len(text)))].encode()
    return _CSV.replace("V_TC_V", "V_TC_V_é").encode(draw(st.sampled_from(["latin-1", "utf-16", "utf-32"])))


@bounded(600)
@given(damaged_csv())
def test_damaged_csv_files_load_or_raise_trace_error(content):
    _load_or_refuse(content, ".csv")
