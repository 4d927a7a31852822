"""``python -m probe_fem`` is the ``probe-fem`` command."""

from probe_fem.cli import console_main

console_main()
