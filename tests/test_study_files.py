"""Study files: whatever the file or its ``design`` names, a StudyError with one message per problem.

The property test (hypothesis; fixed seed in CI, ``--hypothesis-profile=long`` for more) mutates the
example study, its ``design`` among them (paths with a NUL, to binary, deeply nested or missing
files, odd ``embedded:`` names): it is accepted, or refused with a StudyError — never another exception.
"""

from __future__ import annotations

import copy
import tempfile
import tomllib
from pathlib import Path

import pytest
from conftest import leaves
from hypothesis import given
from hypothesis import strategies as st

from probe_fem.studies.spec import StudyError, load_study, parse_study

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "examples" / "ntistp-uncertainty.toml"
RAW = tomllib.loads(STUDY.read_text(encoding="utf-8"))


def _bad_designs(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "binary.toml").write_bytes(bytes(range(256)) * 4)
    (folder / "deep.toml").write_text("x = " + "[" * 2000 + "]" * 2000 + "\n", encoding="utf-8")
    (folder / "long.toml").write_text("name = 'x'\nlength = " + "9" * 5000 + "\n", encoding="utf-8")
    (folder / "dotted.toml").write_text("a" + ".a" * 3000 + " = 1\n", encoding="utf-8")
    return {
        "nul": str(folder / "a\0b.toml"),
        "binary": str(folder / "binary.toml"),
        "deep": str(folder / "deep.toml"),
        "long": str(folder / "long.toml"),
        "dotted": str(folder / "dotted.toml"),
        "missing": str(folder / "absent.toml"),
        "folder": str(folder),
        "embedded-up": "embedded:../../../pyproject",
        "embedded-unknown": "embedded:no-such-design",
        "embedded-nul": "embedded:ntistp\0",
    }


@pytest.fixture(scope="module")
def bad_designs(tmp_path_factory) -> dict[str, str]:
    return _bad_designs(tmp_path_factory.mktemp("designs"))


@pytest.mark.parametrize(
    "kind",
    ["nul", "binary", "deep", "long", "dotted", "missing", "folder", "embedded-up", "embedded-unknown", "embedded-nul"],
)
def test_a_bad_design_path_is_one_error_naming_study_design(kind, bad_designs):
    raw = copy.deepcopy(RAW)
    raw["study"]["design"] = bad_designs[kind]
    with pytest.raises(StudyError) as err:
        parse_study(raw, "study.toml")
    assert len(err.value.messages) == 1 and err.value.messages[0].startswith("study.design = "), err.value.messages
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["x = " + "[" * 2000 + "]" * 2000, "[study]\nseed = " + "9" * 5000])
def test_a_study_file_that_cannot_be_parsed_is_one_error(text, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert len(err.value.messages) == 1 and "not valid TOML" in err.value.messages[0]


def test_a_study_path_with_a_nul_is_one_error():
    with pytest.raises(StudyError, match="NUL"):
        load_study("study\0.toml")


WEIRD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(),
    st.text(max_size=10),
    st.lists(st.floats(-10, 100), max_size=3),
    st.dictionaries(st.sampled_from(["a", "values", "low"]), st.integers(), max_size=2),
)


@given(st.data())
def test_a_study_file_is_accepted_or_refused_with_a_study_error(data):
    raw = copy.deepcopy(RAW)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(leaves(raw)) + [("study", "design")] * 5))
        node = raw
        for k in path[:-1]:
            node = node[k]
        if path == ("study", "design"):
            node["design"] = data.draw(st.sampled_from([*sorted(_BAD.values()), "embedded:ntistp", "../x.toml"]))
        else:
            node[path[-1]] = data.draw(WEIRD)
    try:
        study = parse_study(raw, "generated.toml", Path(_BAD["folder"]))
    except StudyError as exc:
        assert exc.messages and all(isinstance(m, str) and m for m in exc.messages)
        return
    assert study.parameters and study.base.fingerprint()


_FOLDER = tempfile.TemporaryDirectory(prefix="probe-fem-studies-")  # removed when the tests end
_BAD = _bad_designs(Path(_FOLDER.name))
