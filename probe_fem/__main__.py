"""``python -m probe_fem`` is the ``probe-fem`` command."""

import sys

from probe_fem.cli import main

sys.exit(main())
