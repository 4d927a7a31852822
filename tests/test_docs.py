"""The command and design-key references are generated from the parsers and the schema: regenerating them
gives the committed pages, so a command, flag or key cannot change without its documentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from probe_fem.cli.reference import cli_reference
from probe_fem.design.reference import design_reference
from probe_fem.design.schema import Design

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("page,make", [("cli.md", cli_reference), ("designs.md", design_reference)])
def test_reference_pages_are_current(page, make):
    assert (DOCS / page).read_text(encoding="utf-8") == make(), f"run: python -m probe_fem.cli.reference ({page})"


def test_every_design_key_and_command_is_documented():
    cli, keys = (DOCS / "cli.md").read_text(encoding="utf-8"), (DOCS / "designs.md").read_text(encoding="utf-8")
    for name in Design.model_fields:
        assert f"`{name}`" in keys or f"## `{name}`" in keys, name
    for command in ("calibrate", "mesh", "plan", "study", "fit", "compare", "converge", "export", "analyze"):
        assert f"## `probe-fem {command}`" in cli
    assert "`--accuracy`" in cli and "`length_<unit>`" in keys
