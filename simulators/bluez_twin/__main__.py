"""``python -m simulators.bluez_twin`` (see :mod:`simulators.bluez_twin.cli`)."""

import sys

from simulators.bluez_twin.cli import main

sys.exit(main())
