"""treadsim: an FTMS treadmill simulator on a real Bumble GATT server.

In-process use (tests)::

    from bumble.link import LocalLink
    from simulators.treadsim import Simulator

    async with Simulator(link=LocalLink(), preset="citysports-wp8", speedup=10) as sim:
        ...  # put a client Device on the same link; drive the console with sim.press_stop()

As a process: ``treadsim --hci tcp-server:127.0.0.1:PORT --control PATH`` (see docs/simulator.md).
"""

from simulators.treadsim.controller import SimController
from simulators.treadsim.hci_server import HciServer
from simulators.treadsim.presets import Preset, load_preset, preset_names
from simulators.treadsim.quirks import Quirk
from simulators.treadsim.simulator import ActionResult, SimState, Simulator

__all__ = [
    "ActionResult",
    "HciServer",
    "Preset",
    "Quirk",
    "SimController",
    "SimState",
    "Simulator",
    "load_preset",
    "preset_names",
]
