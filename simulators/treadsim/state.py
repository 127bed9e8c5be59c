"""What the simulator keeps per connected client, and what a test or the control socket can see
of the simulator (:class:`SimState`)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from bumble.device import Connection

from simulators.treadsim.gatt import Outbox
from simulators.treadsim.model import Snapshot
from simulators.treadsim.strap import StrapState


@dataclass(frozen=True, slots=True)
class SimState:
    """What a test or the control socket can see of the simulator."""

    machine: Snapshot
    connected: bool
    peer: str | None
    notifying: bool
    procedure_pending: bool
    strap: StrapState | None = None
    """The heart-rate strap, when the simulator runs one."""

    def to_dict(self) -> dict[str, Any]:
        machine = asdict(self.machine)
        machine["phase"] = self.machine.phase.value
        machine["training_status"] = int(self.machine.training_status)
        state = {
            "machine": machine,
            "connected": self.connected,
            "peer": self.peer,
            "notifying": self.notifying,
            "procedure_pending": self.procedure_pending,
        }
        if self.strap is not None:
            state["strap"] = self.strap.to_dict()
        return state


class ClientSession:
    """One connected client: its connection, its outbox and its pending control point procedure."""

    def __init__(self, connection: Connection, outbox: Outbox) -> None:
        self.connection = connection
        self.outbox = outbox
        self.procedure_pending = False
        self.task: asyncio.Task[None] | None = None
