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
from dataclasses import dataclass

from bumble import hci, ll
from bumble.controller import Controller

logger = logging.getLogger(__name__)

SCAN_ACTIVE = 0x01
"""LE_Scan_Type / Scan_Type[i] "active scanning" (Core v5.3 Vol 4 Part E §7.8.10, §7.8.64)."""
_ExtProps = hci.HCI_LE_Set_Extended_Advertising_Parameters_Command.AdvertisingProperties
_ExtEvent = hci.HCI_LE_Extended_Advertising_Report_Event.EventType
_LegacyEvent = hci.HCI_LE_Advertising_Report_Event.EventType
_AdvType = hci.HCI_LE_Set_Advertising_Parameters_Command.AdvertisingType


@dataclass(frozen=True, slots=True)
class Advertiser:
    """What a scanner can learn of the advertiser behind one advertising PDU."""

    connectable: bool
    scannable: bool
    legacy: bool
    scan_response: bytes


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

    # Finding 5: advertising reports with the advertiser's type and scan response.
    def on_hci_le_set_extended_scan_parameters_command(
        self, command: hci.HCI_LE_Set_Extended_Scan_Parameters_Command
    ) -> hci.HCI_StatusReturnParameters:
        """Core v5.3 Vol 4 Part E §7.8.64: remember whether the scan is active (Bumble drops
        Scan_Type)."""
        result = super().on_hci_le_set_extended_scan_parameters_command(command)
        self.le_scan_type = int(any(t == SCAN_ACTIVE for t in command.scan_types))
        return result

    def on_advertising_pdu(self, pdu: ll.AdvInd | ll.AdvExtInd) -> None:
        if self.le_scan_enable:
            self._report(pdu, self.advertiser_of(pdu))
        # Bumble's own handling for the rest (a pending connection, periodic sync), without
        # its reports.
        scanning, self.le_scan_enable = self.le_scan_enable, False
        try:
            super().on_advertising_pdu(pdu)
        finally:
            self.le_scan_enable = scanning

    def advertiser_of(self, pdu: ll.AdvInd | ll.AdvExtInd) -> Advertiser:
        """The advertiser's type and scan response, from its controller on the same link."""
        address = pdu.advertiser_address
        for controller in self.link.controllers if self.link is not None else ():
            if controller is self:
                continue
            legacy = controller.le_legacy_advertiser
            if legacy.enabled and legacy.address == address:
                kind = legacy.advertising_type
                return Advertiser(
                    connectable=kind in (_AdvType.ADV_IND, _AdvType.ADV_DIRECT_IND),
                    scannable=kind in (_AdvType.ADV_IND, _AdvType.ADV_SCAN_IND),
                    legacy=True,
                    scan_response=bytes(legacy.scan_response_data),
                )
            for advertising_set in controller.advertising_sets.values():
                parameters = advertising_set.parameters
                if (
                    advertising_set.enabled
                    and parameters is not None
                    and advertising_set.address == address
                ):
                    props = _ExtProps(parameters.advertising_event_properties)
                    return Advertiser(
                        connectable=bool(props & _ExtProps.CONNECTABLE_ADVERTISING),
                        scannable=bool(props & _ExtProps.SCANNABLE_ADVERTISING),
                        legacy=bool(props & _ExtProps.USE_LEGACY_ADVERTISING_PDUS),
                        scan_response=bytes(advertising_set.scan_response_data),
                    )
        # Not on this link any more (it stopped meanwhile): report what the PDU says.
        return Advertiser(connectable=True, scannable=False, legacy=True, scan_response=b"")

    def _report(self, pdu: ll.AdvInd | ll.AdvExtInd, source: Advertiser) -> None:
        respond = self.le_scan_type == SCAN_ACTIVE and source.scannable
        extended = bool(self.le_features & hci.LeFeatureMask.LE_EXTENDED_ADVERTISING)
        if extended:
            kind = _ExtEvent(0)
            if source.connectable:
                kind |= _ExtEvent.CONNECTABLE_ADVERTISING
            if source.scannable:
                kind |= _ExtEvent.SCANNABLE_ADVERTISING
            if source.legacy:
                kind |= _ExtEvent.LEGACY_ADVERTISING_PDU_USED
            self._send_extended(pdu, kind, pdu.data)
            if respond:
                self._send_extended(pdu, kind | _ExtEvent.SCAN_RESPONSE, source.scan_response)
            return
        if source.connectable:
            legacy_kind = _LegacyEvent.ADV_IND
        elif source.scannable:
            legacy_kind = _LegacyEvent.ADV_SCAN_IND
        else:
            legacy_kind = _LegacyEvent.ADV_NONCONN_IND
        self._send_legacy(pdu, legacy_kind, pdu.data)
        if respond:
            self._send_legacy(pdu, _LegacyEvent.SCAN_RSP, source.scan_response)

    def _send_extended(self, pdu: ll.AdvInd | ll.AdvExtInd, kind: int, data: bytes) -> None:
        report = hci.HCI_LE_Extended_Advertising_Report_Event.Report(
            event_type=kind,
            address_type=pdu.advertiser_address.address_type,
            address=pdu.advertiser_address,
            primary_phy=hci.Phy.LE_1M,
            secondary_phy=hci.Phy.LE_1M,
            advertising_sid=pdu.sid if isinstance(pdu, ll.AdvExtInd) else 0,
            tx_power=hci.HCI_LE_Extended_Advertising_Report_Event.TX_POWER_INFORMATION_NOT_AVAILABLE,
            rssi=-50,
            periodic_advertising_interval=0,
            direct_address_type=0,
            direct_address=hci.Address.ANY,
            data=data,
        )
        self.send_hci_packet(hci.HCI_LE_Extended_Advertising_Report_Event([report]))

    def _send_legacy(self, pdu: ll.AdvInd | ll.AdvExtInd, kind: int, data: bytes) -> None:
        report = hci.HCI_LE_Advertising_Report_Event.Report(
            event_type=kind,
            address_type=pdu.advertiser_address.address_type,
            address=pdu.advertiser_address,
            data=data,
            rssi=-50,
        )
        self.send_hci_packet(hci.HCI_LE_Advertising_Report_Event([report]))

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
