"""The long run of the design-space property test: random designs, how many calibrate, how long meshing takes.

    python benchmarks/design_space.py                 # 60 designs, seed 1: table + benchmarks/design_space.json
    python benchmarks/design_space.py -n 300 --seed 7 --out /tmp/ds.json

Designs come from ``tests/design_space.py`` (the generator the property test uses).  Each accepted
design is meshed at refine 0.5 and 1 one after the other (timed apart; meshing runs in a child
process, so a crash or hang is a recorded failure) and then calibrated end to end from those meshes
(``probe_fem.calibrate``: steady, modes, verified reduced model).  Prints the success rate per
planform × tip × legs combination, the refusals, every failure, and the distribution of meshing
time and size at refine 1.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def one(raw: dict, cache: str) -> dict:
    """Load, mesh at 0.5 and 1 (timed), calibrate; what happened, never raises."""
    from probe_fem import calibrate
    from probe_fem.design.load import parse_design
    from probe_fem.errors import InputError, ProbeFemError
    from probe_fem.mesh.probe import build_mesh

    row: dict = {"combo": raw["name"].removeprefix("generated-")}
    try:
        design = parse_design(raw, raw["name"])
    except InputError as exc:
        return {**row, "status": "refused", "why": exc.messages[0]}
    try:
        for refine in (0.5, 1.0):
            t0 = time.perf_counter()
            pm = build_mesh(design, refine, cache=cache)
            row[f"mesh_{refine:g}_s"] = time.perf_counter() - t0
            row[f"tets_{refine:g}"] = pm.mesh.n_elements
        run = calibrate(design, cache=cache)
    except ProbeFemError as exc:
        return {**row, "status": "failed", "why": str(exc).splitlines()[0]}
    ok = run.steady.balance_error < 1e-9 and run.dynamics is not None
    return {**row, "status": "calibrated" if ok else "failed", "R_P_K_per_W": run.steady.R_P, "dofs": run.steady.dofs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=60, help="designs to draw (default 60)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(HERE / "design_space.json"))
    args = ap.parse_args(argv)
    from design_space import draw
    from rich.console import Console

    from probe_fem.io import write_json

    con = Console(width=150)
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for i in range(args.n):
            rows.append(one(draw(rng), cache))
            r = rows[-1]
            con.log(f"{i + 1}/{args.n} {r['combo']}: {r['status']} {r.get('why', '')[:110]}")
    report(con, rows)
    con.print(f"wrote {write_json(args.out, {'seed': args.seed, 'designs': rows, 'summary': summary(rows)})}")
    return 0


def summary(rows: list[dict]) -> dict:
    """Counts per combination and the refine-1 meshing time and size distribution."""
    per: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        per[r["combo"]][r["status"]] += 1
    accepted = [r for r in rows if r["status"] != "refused"]
    times = sorted(r["mesh_1_s"] for r in rows if "mesh_1_s" in r)
    tets = sorted(r["tets_1"] for r in rows if "tets_1" in r)

    def pct(xs: list, q: float) -> float | None:
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else None

    return {
        "designs": len(rows),
        "accepted": len(accepted),
        "calibrated": sum(r["status"] == "calibrated" for r in rows),
        "per_combination": {k: dict(v) for k, v in sorted(per.items())},
        "mesh_refine_1_s": {"p50": pct(times, 0.5), "p90": pct(times, 0.9), "max": times[-1] if times else None},
        "tets_refine_1": {"p50": pct(tets, 0.5), "p90": pct(tets, 0.9), "max": tets[-1] if tets else None},
    }


def report(con, rows: list[dict]) -> None:
    from rich.table import Table

    s = summary(rows)
    t = Table(
        title=f"design space: {s['calibrated']} of {s['accepted']} accepted designs calibrate ({s['designs']} drawn)"
    )
    for col in ("planform-tip-legs", "drawn", "refused", "accepted", "calibrated", "failed"):
        t.add_column(col, justify="right")
    for combo, c in s["per_combination"].items():
        acc = c.get("calibrated", 0) + c.get("failed", 0)
        t.add_row(
            combo,
            str(sum(c.values())),
            str(c.get("refused", 0)),
            str(acc),
            str(c.get("calibrated", 0)),
            str(c.get("failed", 0)),
        )
    con.print(t)
    m, n = s["mesh_refine_1_s"], s["tets_refine_1"]
    if m["p50"] is not None:
        con.print(
            f"meshing at refine 1: median {m['p50']:.1f} s, 90th percentile {m['p90']:.1f} s, max {m['max']:.1f} s; "
            f"tetrahedra median {n['p50']:,}, 90th percentile {n['p90']:,}, max {n['max']:,}"
        )
    for r in rows:
        if r["status"] == "failed":
            con.print(f"[red]failed[/red] {r['combo']}: {r['why']}")
    why = Counter(r["why"].split(":")[0] for r in rows if r["status"] == "refused")
    con.print("refusals by field: " + ", ".join(f"{k} ×{v}" for k, v in why.most_common()))


if __name__ == "__main__":
    raise SystemExit(main())
