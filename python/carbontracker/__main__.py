"""``python -m carbontracker ...``: the carbontracker command (see carbontracker.cli)."""

import sys

from .cli import main

sys.exit(main())
