"""``python -m simulators.treadsim``: the same as the ``treadsim`` console script."""

import sys

from simulators.treadsim.cli import main

sys.exit(main())
