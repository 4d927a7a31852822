"""The command reference (``docs/cli.md``) from the argument parsers, and the design-key reference.

    python -m probe_fem.cli.reference        # rewrites docs/cli.md and docs/designs.md in the current folder

A test regenerates both and compares them with the committed pages: a command, flag or design key
cannot change without its documentation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HEADER = """# Commands

Generated from the argument parsers by `python -m probe_fem.cli.reference` (a test checks that it is
current). `probe-fem COMMAND --help` prints the same. Every command exits 0 on success, 2 on a bad input
(one line per problem, nothing written), 1 on a failed computation or write, 130 on Ctrl-C (no result
written, except a study's table of finished points, from which it resumes: once a command has put its
first result in place, it ignores Ctrl-C and finishes in a second or two); `probe-fem --debug COMMAND` shows tracebacks.
"""


def _commands(parser: argparse.ArgumentParser) -> dict[str, tuple[str, argparse.ArgumentParser]]:
    """Each command's one-line help and its parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            return {name: (helps.get(name, ""), sub) for name, sub in action.choices.items()}
    return {}


def _option_row(sub: argparse.ArgumentParser, action: argparse.Action) -> str:
    name = ", ".join(f"`{o}`" for o in action.option_strings) or f"`{action.dest}`"
    if action.metavar and action.option_strings:
        name += f" `{action.metavar}`"
    text = sub._get_formatter()._expand_help(action) if action.help else ""
    text = " ".join(text.split()).replace("|", "\\|")
    default = action.default
    if action.option_strings and default not in (None, False, argparse.SUPPRESS) and "default" not in text:
        text += f" (default {default})"
    return f"| {name} | {text} |"


def cli_reference() -> str:
    """The markdown page of every command and its options."""
    from probe_fem.cli.main import _parser

    lines = [HEADER]
    for name, (what, sub) in _commands(_parser()).items():
        usage = " ".join(sub.format_usage().split()).removeprefix("usage: ")
        lines += [f"## `probe-fem {name}`", "", what, "", f"    {usage}", ""]
        rows = [_option_row(sub, a) for a in sub._actions if not isinstance(a, argparse._HelpAction)]
        if rows:
            lines += ["| argument | what |", "|---|---|", *rows, ""]
    return "\n".join(lines).rstrip() + "\n"


def main(folder: str = "docs") -> int:
    """Write ``docs/cli.md`` and ``docs/designs.md``."""
    from probe_fem.design.reference import design_reference
    from probe_fem.io import write_text

    out = Path(folder)
    for name, text in (("cli.md", cli_reference()), ("designs.md", design_reference())):
        print(f"wrote {write_text(out / name, text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
