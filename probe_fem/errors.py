"""One error hierarchy for everything probe-fem raises on purpose.

``ProbeFemError`` is the base; the command line catches it once: an
:class:`InputError` (a file or argument the user handed in) exits with code 2,
any other ``ProbeFemError`` (a computation that failed) with code 1.
"""

from __future__ import annotations

from collections.abc import Sequence


class ProbeFemError(Exception):
    """Base of every error probe-fem raises on purpose."""


class InputError(ProbeFemError, ValueError):
    """An input (file or argument) that cannot be used.

    ``messages`` lists every problem found, one line each, each naming the field,
    its value and the allowed range (one problem is one line, several are a list under a
    heading). A single string is kept as the whole message.
    """

    kind = "input"

    def __init__(self, messages: str | Sequence[str], source: str = ""):
        self.single = isinstance(messages, str)
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        self.source = source or self.kind
        super().__init__(f"{self.source}: " + "; ".join(self.messages))

    def __str__(self) -> str:
        if self.single:
            return self.messages[0]
        if len(self.messages) == 1:  # one problem, one line
            return f"invalid {self.kind} {self.source}: {self.messages[0]}"
        return "\n".join([f"invalid {self.kind} {self.source}:"] + [f"  - {m}" for m in self.messages])


class MeshError(ProbeFemError, RuntimeError):
    """Geometry or meshing failed (gmsh, or the hand-over of its mesh)."""


class SolverError(ProbeFemError, RuntimeError):
    """A linear, eigen or time-stepping solve did not give a usable answer."""


class FitError(ProbeFemError, RuntimeError):
    """A fit could not finish (an evaluation failed, or the parameters are not identifiable)."""
