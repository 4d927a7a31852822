"""gmsh session and the hand-over of a gmsh mesh to scikit-fem.

The CAD is built in micrometres (OCC's tolerance is ~1e-7 model units, too
coarse for 70 nm films given in metres); :func:`extract` scales the nodes to
metres.  Every physical group must have a name.  Only nodes used by
tetrahedra are kept (points used to anchor size fields would be orphans).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import gmsh
import numpy as np
from skfem import MeshTet1

from probe_fem.errors import MeshError

MICRON = 1e-6
TET4, TRI3 = 4, 2


@contextmanager
def gmsh_session(seed: int = 1) -> Iterator[None]:
    """Own the process-global gmsh instance: quiet, one thread, fixed seed (deterministic)."""
    if gmsh.isInitialized():
        raise MeshError("gmsh is already initialised in this process (one session at a time)")
    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.option.setNumber("General.NumThreads", 1)
        gmsh.option.setNumber("Mesh.RandomSeed", seed)
        gmsh.model.add("probe")
        yield
    finally:
        gmsh.finalize()


@dataclass(frozen=True)
class Mesh:
    """A tetrahedral mesh in metres with named element and facet sets."""

    skfem: MeshTet1

    @property
    def n_nodes(self) -> int:
        return self.skfem.p.shape[1]

    @property
    def n_elements(self) -> int:
        return self.skfem.t.shape[1]

    def fingerprint(self) -> str:
        """SHA-256 over node coordinates, connectivity and named sets: equal iff meshes are identical."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.skfem.p).tobytes())
        h.update(np.ascontiguousarray(self.skfem.t).astype(np.int64).tobytes())
        for kind in (self.skfem.subdomains or {}, self.skfem.boundaries or {}):
            for name in sorted(kind):
                h.update(name.encode())
                h.update(np.asarray(kind[name], dtype=np.int64).tobytes())
        return h.hexdigest()[:16]


def to_arrays(mesh: Mesh) -> dict[str, np.ndarray]:
    """The mesh as named arrays (``p``, ``t``, ``sub__<name>``, ``bnd__<name>``): for files and pipes, no pickles."""
    m = mesh.skfem
    arrays = {"p": m.p, "t": m.t}
    arrays.update({f"sub__{k}": np.asarray(v) for k, v in (m.subdomains or {}).items()})
    arrays.update({f"bnd__{k}": np.asarray(v) for k, v in (m.boundaries or {}).items()})
    return arrays


def from_arrays(arrays: Mapping[str, np.ndarray]) -> Mesh:
    """The mesh of :func:`to_arrays`; ``ValueError`` if the arrays do not make a tetrahedral mesh."""
    p, t = np.ascontiguousarray(arrays["p"], dtype=float), np.ascontiguousarray(arrays["t"])
    if p.ndim != 2 or p.shape[0] != 3 or t.ndim != 2 or t.shape[0] != 4 or t.size == 0 or t.max() >= p.shape[1]:
        raise ValueError("inconsistent mesh arrays")
    sub = {k[5:]: np.asarray(arrays[k]) for k in arrays if k.startswith("sub__")}
    bnd = {k[5:]: np.asarray(arrays[k]) for k in arrays if k.startswith("bnd__")}
    return Mesh(MeshTet1(p, t, _boundaries=bnd, _subdomains=sub))


def _elements(dim: int, tags: list[int], etype: int) -> list[np.ndarray]:
    out = []
    nn = {TET4: 4, TRI3: 3}[etype]
    for tag in tags:
        types, _, nodes = gmsh.model.mesh.getElements(dim, tag)
        for ty, nd in zip(types, nodes):
            if ty != etype:
                raise MeshError(
                    f"gmsh made element type {ty} on entity ({dim}, {tag}); only linear "
                    "tetrahedra and triangles are supported"
                )
            out.append(np.asarray(nd, dtype=np.int64).reshape(-1, nn))
    return out


def _facet_keys(tri: np.ndarray, n: int) -> np.ndarray:
    s = np.sort(tri, axis=1).astype(np.int64)
    return (s[:, 0] * n + s[:, 1]) * n + s[:, 2]


def extract(volumes: dict[str, list[int]], surfaces: dict[str, list[int]], scale: float = MICRON) -> Mesh:
    """Build a scikit-fem mesh from the current gmsh model.

    ``volumes``/``surfaces`` map a name to gmsh entity tags; volume names become
    ``mesh.subdomains`` (element indices, sets may overlap), surface names become
    ``mesh.boundaries`` (facet indices).  Node coordinates are multiplied by ``scale``.
    """
    node_tags, coords, _ = gmsh.model.mesh.getNodes()
    xyz = coords.reshape(-1, 3) * scale
    entity_tets: dict[int, np.ndarray] = {}
    for tag in sorted({t for tags in volumes.values() for t in tags}):
        blocks = _elements(3, [tag], TET4)
        entity_tets[tag] = np.vstack(blocks) if blocks else np.zeros((0, 4), np.int64)
    order = sorted(entity_tets)
    tets_tag = np.vstack([entity_tets[t] for t in order])
    used = np.unique(tets_tag)
    lookup = np.full(int(node_tags.max()) + 1, -1, dtype=np.int64)
    lookup[used] = np.arange(used.size)
    pos = np.full(int(node_tags.max()) + 1, -1, dtype=np.int64)
    pos[node_tags.astype(np.int64)] = np.arange(node_tags.size)
    p = np.ascontiguousarray(xyz[pos[used]].T)
    t = np.ascontiguousarray(lookup[tets_tag].T)
    offsets = np.cumsum([0] + [entity_tets[o].shape[0] for o in order])
    start = {tag: (offsets[i], offsets[i + 1]) for i, tag in enumerate(order)}
    subdomains = {name: np.concatenate([np.arange(*start[tag]) for tag in tags]) for name, tags in volumes.items()}
    base = MeshTet1(p, t)
    n = p.shape[1]
    fkeys = _facet_keys(base.facets.T, n)
    sorter = np.argsort(fkeys)
    boundaries = {}
    for name, tags in surfaces.items():
        tri = lookup[np.vstack(_elements(2, tags, TRI3))]
        if (tri < 0).any():
            raise MeshError(f"surface group {name!r} has nodes that belong to no tetrahedron")
        keys = _facet_keys(tri, n)
        idx = np.searchsorted(fkeys, keys, sorter=sorter)
        found = sorter[np.minimum(idx, fkeys.size - 1)]
        if not np.array_equal(fkeys[found], keys):
            raise MeshError(f"surface group {name!r} is not made of tetrahedron faces")
        boundaries[name] = np.sort(found)
    final = MeshTet1(p, t, _boundaries=boundaries, _subdomains=subdomains)
    final._facets, final._t2f = base._facets, base._t2f  # same p, t: reuse the topology, do not rebuild it
    return Mesh(final)


def generate(dim: int = 3) -> None:
    """Mesh the current gmsh model (call inside :func:`gmsh_session`); a gmsh failure is a :class:`MeshError`."""
    try:
        gmsh.model.mesh.generate(dim)
    except Exception as exc:  # gmsh raises a bare Exception with its log line
        raise MeshError(f"gmsh could not mesh the geometry: {exc}") from exc
