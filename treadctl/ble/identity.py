"""The Device Information Service (0x180A): which characteristics hold which string, and how a
string is read off the wire (pure; docs/references.md#ble-dis).

Every characteristic is optional and a UTF-8 string without a terminator; devices in the wild
pad with NULs or spaces and some send bytes that are not UTF-8, so the text is decoded leniently,
stripped, cut to :data:`MAX_CHARS` and dropped when nothing printable is left.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from treadctl.observations import DeviceIdentity

DIS_SERVICE_UUID16 = 0x180A
DIS_STRINGS: dict[int, str] = {
    0x2A29: "manufacturer",
    0x2A24: "model_number",
    0x2A25: "serial_number",
    0x2A27: "hardware_revision",
    0x2A26: "firmware_revision",
    0x2A28: "software_revision",
}
"""Characteristic UUID16 → :class:`DeviceIdentity` field."""
MAX_CHARS = 64


def dis_text(raw: bytes) -> str | None:
    """One DIS string, or None when it holds nothing usable."""
    text = raw.decode("utf-8", errors="replace").replace("\x00", "")
    text = "".join(c for c in text if c.isprintable()).strip()[:MAX_CHARS].strip()
    return text or None


async def read_identity(read: Callable[[int], Awaitable[bytes | None]]) -> DeviceIdentity | None:
    """Read every DIS string ``read`` can get (None for a missing or failed characteristic);
    None when the device offers none."""
    fields: dict[str, str] = {}
    for uuid16, field in DIS_STRINGS.items():
        raw = await read(uuid16)
        text = dis_text(bytes(raw)) if raw is not None else None
        if text is not None:
            fields[field] = text
    return DeviceIdentity(**fields) if fields else None
