"""A Bumble virtual controller with the gaps that matter for a treadmill simulator fixed.

Bumble 0.0.236's ``bumble.controller.Controller`` (a controller on a ``LocalLink``):

1. HCI Reset does nothing: LE links, advertising and a pending connection of a host that went
   away survive, so a crashed client leaves the treadmill "connected" forever. Here Reset (and
   :meth:`SimController.on_host_lost`) drops every LE link (the peer sees a supervision timeout,
   as over the air), stops advertising and scanning and forgets a pending connection
   (Core v5.3 Vol 4 Part E §7.3.2).
2. LE Create Connection Cancel answers Success but never completes the pending connection, so a
   connect with a timeout to an absent device hangs. Here the cancel completes it with an
   LE Connection Complete event, status Unknown Connection Identifier (0x02), after the Command
   Complete (Core v5.3 Vol 4 Part E §7.8.13); without a pending connection it answers Command
   Disallowed (0x0C).
3./4. (server transports, see ``hci_server.py``) one host per controller; the host leaving is
   reported here through :meth:`on_host_lost`.
"""

from __future__ import annotations

import logging

from bumble import hci, ll
from bumble.controller import Controller

logger = logging.getLogger(__name__)


class SimController(Controller):
    """``bumble.controller.Controller`` with Reset, Create Connection Cancel and host loss fixed."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._after_complete: list[hci.HCI_Packet] = []
        self.links_dropped = 0
        """How many LE links this controller dropped because its host reset or left."""

    # Events that must follow the Command Complete of the command being handled.
    def on_hci_command_packet(self, command: hci.HCI_Command) -> None:
        super().on_hci_command_packet(command)
        pending, self._after_complete = self._after_complete, []
        for packet in pending:
            self.send_hci_packet(packet)

    def on_hci_reset_command(
        self, command: hci.HCI_Reset_Command
    ) -> hci.HCI_StatusReturnParameters:
        """Core v5.3 Vol 4 Part E §7.3.2: Reset ends every link and activity of the controller."""
        self.drop_host_state()
        return super().on_hci_reset_command(command)

    def on_hci_le_create_connection_cancel_command(
        self, _command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        """Core v5.3 Vol 4 Part E §7.8.13: complete the pending connection with status 0x02."""
        pending = self.pending_le_connection
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        self.pending_le_connection = None
        self._after_complete.append(
            hci.HCI_LE_Connection_Complete_Event(
                status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                connection_handle=0,
                role=hci.Role.CENTRAL,
                peer_address_type=pending.peer_address_type,
                peer_address=pending.peer_address,
                connection_interval=0,
                peripheral_latency=0,
                supervision_timeout=0,
                central_clock_accuracy=0,
            )
        )
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)

    def on_hci_disconnect_command(self, command: hci.HCI_Disconnect_Command) -> None:
        """Core v5.3 Vol 4 Part E §7.1.6: an unknown handle is answered with status 0x02
        (Bumble answers "pending" and never completes, so the host waits forever)."""
        handle = command.connection_handle
        if self.find_connection_by_handle(handle) is None and not any(
            link.handle == handle for link in self.sco_links.values()
        ):
            self._send_hci_command_status(
                hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, command.op_code
            )
            return
        super().on_hci_disconnect_command(command)

    def on_host_lost(self) -> None:
        """The host behind this controller went away (its transport closed)."""
        self.host = None
        self.drop_host_state()

    def drop_host_state(self) -> None:
        """Drop LE links, advertising, scanning and any pending connection.

        The peers see their link end with Connection Timeout (0x08), as when a radio vanishes.
        """
        for peer_address, connection in list(self.le_connections.items()):
            connection.send_ll_control_pdu(
                ll.TerminateInd(hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR)
            )
            del self.le_connections[peer_address]
            self.links_dropped += 1
            logger.info("%s: dropped LE link to %s", self.name, peer_address)
        self.le_legacy_advertiser.stop()
        for advertising_set in self.advertising_sets.values():
            advertising_set.stop()
        self.advertising_sets.clear()
        self.pending_le_connection = None
        self.le_scan_enable = False
