"""treadsim with a send tap: the unchanged simulator process, plus one line per Treadmill Data
record it hands to its Bluetooth host, for the telemetry latency benchmark.

    python -m bench.sim_tap --tap FILE <treadsim arguments>

Each record sent to a subscribed client carries a sequence number in its Total Energy field
(FTMS §4.4 bit 7, u16; the daemon passes it through to MQTT as ``energy_kcal``), and the tap
writes ``<seq> <time.monotonic()>`` when the record is handed to the host's outbox. A
subscriber's arrival time minus that time is the notification → MQTT latency; a sequence number
that never arrives is a lost message. Nothing else in the simulator changes.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import TextIO

from simulators.treadsim import cli, wire
from simulators.treadsim.simulator import Simulator

SEQ_MODULO = 60_000
"""Sequence numbers wrap below 0xFFFF (which would read as "not available")."""


def install(sink: TextIO) -> None:
    counter = 0

    def send_data(self: Simulator) -> None:
        nonlocal counter
        if not self._notifying:
            return
        subscribers = self._data_subscribers()
        if not subscribers:
            return
        counter += 1
        seq = counter % SEQ_MODULO
        snap = dataclasses.replace(self.model.snapshot(), energy_kcal=seq)
        sent = time.monotonic()
        for session in subscribers:
            mtu = session.connection.att_mtu
            for frame in wire.treadmill_data_frames(self.preset, snap, mtu):
                session.outbox.notify(self.gatt.treadmill_data, frame)
        sink.write(f"{seq} {sent:.6f}\n")
        sink.flush()

    Simulator._send_data = send_data  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "--tap":
        print("usage: python -m bench.sim_tap --tap FILE <treadsim arguments>", file=sys.stderr)
        return 2
    with open(argv[1], "a", encoding="utf-8") as sink:
        install(sink)
        return cli.main(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
