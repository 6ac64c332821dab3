"""``python -m aftaleflow`` runs the command line."""

import sys

from aftaleflow.cli import main

sys.exit(main())
