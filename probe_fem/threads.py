"""BLAS thread pools: one thread during probe-fem's work, for every BLAS the process has or will load.

Sparse factorizations gain nothing from BLAS threads, and on a shared 2-core machine a
multithreaded BLAS in small dense products made the frequency stage 50× slower when the other
core was busy.  ``threadpoolctl`` limits only the libraries already loaded, and scipy loads its own
OpenBLAS lazily, so :func:`limited_blas` first imports the modules that load every BLAS probe-fem
calls, then limits them all.  ``PROBE_FEM_BLAS_THREADS=n`` asks for more.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from probe_fem.errors import InputError

# importing these loads numpy's and scipy's BLAS, cvxopt's OpenBLAS (CHOLMOD) and MKL through pypardiso, when installed
_BLAS_LOADERS = ("numpy", "scipy.linalg", "scipy.sparse.linalg")
_OPTIONAL_LOADERS = ("cvxopt.cholmod", "pypardiso")
ENV = "PROBE_FEM_BLAS_THREADS"

F = TypeVar("F", bound=Callable[..., Any])


def requested() -> int:
    """BLAS threads to use: ``$PROBE_FEM_BLAS_THREADS`` if set (an integer >= 1), else 1."""
    text = os.environ.get(ENV, "1")
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise InputError(f"{ENV} = {text!r}: allowed an integer >= 1")
    return n


@contextmanager
def limited_blas(threads: int | None = None) -> Iterator[None]:
    """Limit every BLAS pool of the process to ``threads`` (default :func:`requested`) inside the block."""
    from threadpoolctl import threadpool_limits

    for name in _BLAS_LOADERS:
        importlib.import_module(name)
    for name in _OPTIONAL_LOADERS:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    with threadpool_limits(limits=threads or requested(), user_api="blas"):
        yield


def blas_limited(fn: F) -> F:
    """Decorator: run ``fn`` inside :func:`limited_blas`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with limited_blas():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
