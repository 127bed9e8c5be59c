"""treadsim: an FTMS treadmill simulator on a real Bumble GATT server.

In-process use (tests)::

    from bumble.link import LocalLink
    from simulators.treadsim import Simulator

    async with Simulator(link=LocalLink(), preset="citysports-wp8", speedup=10) as sim:
        ...  # put a client Device on the same link; drive the console with sim.press_stop()

As a process: ``treadsim --hci tcp-server:127.0.0.1:PORT --control PATH`` (see docs/simulator.md).
"""

from simulators.treadsim.actions import ActionResult
from simulators.treadsim.controller import SimController
from simulators.treadsim.hci_server import HciServer
from simulators.treadsim.heart import HeartParams
from simulators.treadsim.presets import Preset, load_preset, preset_names
from simulators.treadsim.quirks import Quirk
from simulators.treadsim.simulator import Simulator
from simulators.treadsim.state import SimState
from simulators.treadsim.strap import HeartRateStrap, StrapOptions, StrapState

__all__ = [
    "ActionResult",
    "HciServer",
    "HeartParams",
    "HeartRateStrap",
    "Preset",
    "Quirk",
    "SimController",
    "SimState",
    "Simulator",
    "StrapOptions",
    "StrapState",
    "load_preset",
    "preset_names",
]
