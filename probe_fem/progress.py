"""Stage timing with live progress on stderr (rich); quiet when asked, timings always kept."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console


class Stages:
    """Times named stages (``with stages("meshing"): ...``) and shows each as it runs.

    ``seconds`` maps stage name to wall time (s); repeated names accumulate.
    """

    def __init__(self, quiet: bool = False, console: Console | None = None):
        self.quiet = quiet
        self.console = console or Console(stderr=True, log_path=False)
        self.seconds: dict[str, float] = {}
        self._status: Any = None

    @contextmanager
    def __call__(self, name: str, detail: str = "") -> Iterator[None]:
        t0 = time.perf_counter()
        if self.quiet:
            yield
        else:
            with self.console.status(f"{name} {detail}…") as self._status:
                try:
                    yield
                finally:
                    self._status = None
        dt = time.perf_counter() - t0
        self.seconds[name] = self.seconds.get(name, 0.0) + dt
        if not self.quiet:
            self.console.log(f"{name} {detail} done in {dt:.2f} s")

    def update(self, text: str) -> None:
        """Replace the running stage's live line with ``text`` (e.g. the step it is on)."""
        if self._status is not None:
            self._status.update(f"{text}…")

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.log(text)
