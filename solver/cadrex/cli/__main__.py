"""``python -m cadrex.cli``: the command line."""

import sys

from cadrex.cli import main

sys.exit(main())
