"""The package's shape: stages import only earlier stages, consumers of a calibration file need no
FEM libraries, the public API resolves, plots leave the user's backend alone, the README's Python
example runs as printed."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "probe_fem"
STAGES = ["design", "mesh", "physics", "model", "calibration", "analysis", "studies", "plots", "pipeline", "cli"]
BASE = {"_version", "errors", "constants", "paper", "units", "io", "progress", "threads"}  # importable from every stage


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """probe_fem modules imported by ``path`` (absolute names), each with True if at module level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (the package uses absolute imports)"
            if node.module and (node.module == "probe_fem" or node.module.startswith("probe_fem.")):
                for a in node.names:  # ``from pkg import submodule`` imports pkg.submodule
                    sub = f"{node.module}.{a.name}"
                    is_module = (ROOT / sub.replace(".", "/")).is_dir() or (
                        ROOT / (sub.replace(".", "/") + ".py")
                    ).exists()
                    out.append((sub if is_module else node.module, id(node) in top))
        elif isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names if a.name.startswith("probe_fem")]
    return out


def _stage(module: str) -> int:
    first = module.split(".")[1]
    return -1 if first in BASE else STAGES.index(first)


MODULES = {p: _module_name(p) for p in PKG.rglob("*.py")}


def test_every_module_belongs_to_a_stage_or_the_base():
    for name in MODULES.values():
        if name in ("probe_fem", "probe_fem.__main__"):
            continue
        first = name.split(".")[1]
        assert first in BASE or first in STAGES, f"{name}: not in a stage subpackage nor in the base modules"


def test_no_module_imports_from_a_later_stage():
    bad = []
    for path, name in MODULES.items():
        if name in ("probe_fem", "probe_fem.__main__"):  # the lazy public API and the entry point
            continue
        for target, _ in _imports(path):
            if target.split(".")[1] in BASE | set(STAGES) and _stage(target) > _stage(name):
                bad.append(f"{name} imports {target}")
    assert not bad, "\n".join(bad)


def test_no_import_cycles_at_module_level():
    known = set(MODULES.values())
    graph = {name: set() for name in known}
    for path, name in MODULES.items():
        for target, top in _imports(path):
            if top and target in known and not name.startswith(target + ".") and target != name:
                graph[name].add(target)
    state: dict[str, int] = {}

    def visit(n: str, trail: list[str]) -> None:
        state[n] = 1
        for m in graph[n]:
            assert state.get(m) != 1, "import cycle: " + " -> ".join([*trail, n, m])
            if m not in state:
                visit(m, [*trail, n])
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n, [])


CONSUMERS = [
    "probe_fem",
    "probe_fem.calibration",
    "probe_fem.calibration.schema",
    "probe_fem.calibration.exporters",
    "probe_fem.calibration.network",
    "probe_fem.analysis",
    "probe_fem.analysis.landauer",
    "probe_fem.analysis.demodulation",
    "probe_fem.analysis.simulation",
    "probe_fem.analysis.traces",
]


@pytest.mark.parametrize("module", CONSUMERS)
def test_calibration_consumers_load_no_fem_library(module):
    code = (
        f"import sys, json, {module}\n"
        "print(json.dumps(sorted(m for m in ('gmsh', 'skfem', 'meshio', 'pyamg') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_loading_a_calibration_file_and_exporting_needs_no_fem(tmp_path):
    code = (
        "import sys, json\nimport probe_fem as pf\n"
        f"cal = pf.Calibration.load({str(ROOT / 'calib' / 'ntistp.json')!r})\n"
        f"cal.save({str(tmp_path / 'c.csv')!r})\n"
        "print(json.dumps([cal.R_P.value, 'gmsh' in sys.modules, 'skfem' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    r_p, gmsh_loaded, skfem_loaded = json.loads(out.stdout)
    assert r_p > 0 and not gmsh_loaded and not skfem_loaded
    assert (tmp_path / "c.csv").stat().st_size > 0


def test_public_api_resolves_and_is_documented():
    import probe_fem as pf

    for name in pf.__all__:
        obj = getattr(pf, name)
        if callable(obj):
            assert obj.__doc__, f"probe_fem.{name} has no docstring"
    assert re.fullmatch(r"\d+\.\d+\.\d+", pf.__version__)
    with pytest.raises(AttributeError):
        pf.no_such_name  # noqa: B018
    from importlib.metadata import version

    assert version("probe-fem") == pf.__version__  # one source of the version


def test_errors_share_one_base():
    import probe_fem as pf
    from probe_fem.analysis.traces import TraceError
    from probe_fem.calibration import CalibrationError
    from probe_fem.design import DesignError
    from probe_fem.studies import StudyError, TableError

    for cls in (DesignError, CalibrationError, TraceError, StudyError, TableError):
        assert issubclass(cls, pf.InputError), cls
    for cls in (pf.InputError, pf.MeshError, pf.SolverError, pf.FitError):
        assert issubclass(cls, pf.ProbeFemError), cls


def test_plots_leave_the_users_backend_alone(tmp_path):
    code = (
        "import matplotlib\nmatplotlib.use('svg')\n"
        "import probe_fem.plots.fields, probe_fem.plots.dynamics, probe_fem.plots.analysis, probe_fem.plots.studies\n"
        "from probe_fem.plots.base import new_figure, save_figure\n"
        "fig, ax = new_figure((3, 2)); ax.plot([0, 1], [1, 0])\n"
        f"save_figure(fig, {str(tmp_path / 'f.png')!r})\n"
        "print(matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "svg"
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def readme_python_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1, "the README has exactly one Python example"
    return blocks[0]


def test_readme_python_example_runs_as_printed(tmp_path):
    import os

    env = dict(os.environ, PROBE_FEM_CACHE=str(tmp_path / "cache"))
    out = subprocess.run(
        [sys.executable, "-c", readme_python_example()],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    # the example prints the FEM R_P with its uncertainty, exactly as the README says it does
    said = re.search(r"^prints `([^`]+)`", (ROOT / "README.md").read_text(encoding="utf-8"), re.M)
    assert said is not None and out.stdout.strip() == said.group(1)


def test_all_lists_exactly_the_lazy_and_eager_names():
    import probe_fem as pf

    eager = {"FitError", "InputError", "MeshError", "ProbeFemError", "SolverError", "__version__"}
    assert set(pf.__all__) == set(pf._LAZY) | eager


def test_readme_is_short_and_the_repository_stands_alone():
    assert len((ROOT / "README.md").read_bytes()) <= 8192  # details live in docs/
    for path in [*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("probe_fem/**/*.py"), *ROOT.glob("*/*.toml")]:
        assert not re.search(r"\.\./shared\b", path.read_text(encoding="utf-8")), path  # nothing outside the repository
