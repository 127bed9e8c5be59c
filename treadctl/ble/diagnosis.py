"""Why a connection attempt (or a scan) failed, in words a person can act on.

:func:`explain` turns whatever one attempt raised (treadctl's typed errors, bleak's, D-Bus
errors from BlueZ, operating system errors) into a :class:`LinkProblem`: a stable ``code`` for
programs and a one-line ``message`` that names the likely cause and the next step. The
supervisor puts it on its ``DISCONNECTED`` events; the daemon logs it, publishes it as the
MQTT state's ``link_error`` and in systemd's ``STATUS=``; ``treadctl scan`` prints it.

The BlueZ facts used here (error names of ``org.bluez.Adapter1`` / ``org.bluez.Device1``) are
listed in docs/ble.md, "Why a connection fails".
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from dataclasses import dataclass

from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
)

from treadctl.ble.errors import (
    BleTransportError,
    ConnectFailed,
    DeviceNotFound,
    NotATreadmill,
)

SCAN_HINT = "`treadctl scan` lists what is heard"

DBUS_NO_BLUEZ = frozenset(
    {
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
    }
)
"""The system bus answers, but nobody owns ``org.bluez``: bluetoothd is not running."""

BLUEZ_NOT_READY = "org.bluez.Error.NotReady"
"""BlueZ's answer to StartDiscovery/Connect on an adapter that is powered off
(doc/org.bluez.Adapter1.rst, doc/org.bluez.Device1.rst)."""


@dataclass(frozen=True, slots=True)
class LinkProblem:
    """One failed attempt, explained."""

    code: str
    """``bluez_unreachable``, ``bluez_denied``, ``no_adapter``, ``adapter_off``,
    ``transport_refused``, ``not_found``, ``connect_failed``, ``not_a_treadmill``,
    ``timeout``, ``link_lost`` or ``other``."""
    message: str
    """One line: the cause and what to do."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and its causes / contexts (each once)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _adapter_name(adapter: str | None) -> str:
    return f"adapter {adapter}" if adapter else "the Bluetooth adapter"


def _bluez_problem(exc: BaseException, adapter: str | None) -> LinkProblem | None:
    """A BlueZ / system D-Bus failure anywhere in the chain, else None."""
    for item in _chain(exc):
        if isinstance(item, BleakBluetoothNotAvailableError):
            if item.reason == BleakBluetoothNotAvailableReason.POWERED_OFF:
                return LinkProblem(
                    "adapter_off",
                    f"{_adapter_name(adapter)} is powered off: "
                    "switch it on (`bluetoothctl power on`)",
                )
            if item.reason == BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM:
                return LinkProblem(
                    "bluez_denied",
                    "BlueZ refused access on the system D-Bus: run treadctl as a user in the "
                    "`bluetooth` group (the packaged systemd unit does)",
                )
            said = item.args[0] if item.args else str(item)
            return LinkProblem(
                "no_adapter",
                f"BlueZ lists no usable Bluetooth LE adapter ({said}): is bluetoothd running, "
                "and the adapter plugged in and not blocked (`bluetoothctl list`, `rfkill list`)?",
            )
        if isinstance(item, BleakDBusError):
            if item.dbus_error in DBUS_NO_BLUEZ:
                return LinkProblem(
                    "bluez_unreachable",
                    "BlueZ not reachable on the system D-Bus (nobody owns org.bluez): "
                    "is bluetoothd running? (`systemctl status bluetooth`)",
                )
            if item.dbus_error == BLUEZ_NOT_READY:
                return LinkProblem(
                    "adapter_off",
                    f"{_adapter_name(adapter)} is powered off or not ready: "
                    "switch it on (`bluetoothctl power on`)",
                )
        text = str(item)
        if adapter and text == f"adapter '{adapter}' not found":  # bleak's own wording
            return LinkProblem(
                "no_adapter",
                f"BlueZ has no adapter {adapter}: check ble.adapter (`bluetoothctl list`)",
            )
    return None


def _os_problem(exc: BaseException, backend: str) -> LinkProblem | None:
    for item in _chain(exc):
        if not isinstance(item, OSError) or backend != "bluez":
            continue
        if item.errno in (errno.ENOENT, errno.ECONNREFUSED, errno.EACCES):
            return LinkProblem(
                "bluez_unreachable",
                f"BlueZ not reachable on the system D-Bus ({item.strerror or item}): "
                "is dbus running, and bluetoothd? (`systemctl status bluetooth`)",
            )
    return None


def explain(
    exc: BaseException,
    *,
    backend: str = "bluez",
    adapter: str | None = None,
) -> LinkProblem:
    """The :class:`LinkProblem` behind ``exc`` (never raises)."""
    if isinstance(exc, BleTransportError):
        return LinkProblem(
            "transport_refused",
            f"Bumble transport {exc.spec} refused: {exc.reason}; {BleTransportError.advice}",
        )
    if isinstance(exc, DeviceNotFound):
        return LinkProblem("not_found", not_found_message(exc))
    found = _bluez_problem(exc, adapter) or _os_problem(exc, backend)
    if found is not None:
        return found
    if isinstance(exc, NotATreadmill):
        return LinkProblem(
            "not_a_treadmill",
            f"{exc.address} answered but has no FTMS Treadmill Data: "
            "check the configured address or name",
        )
    if isinstance(exc, ConnectFailed):
        return LinkProblem(
            "connect_failed",
            f"{exc.address} was heard but connecting failed: {exc.reason} "
            "(is it connected to a phone or another app?)",
        )
    if isinstance(exc, TimeoutError):
        return LinkProblem("timeout", f"no answer in time ({exc or 'timeout'})")
    return LinkProblem("other", f"{type(exc).__name__}: {exc}")


def not_found_message(exc: DeviceNotFound) -> str:
    seconds = f"{exc.timeout_s:g} s"
    if exc.name is not None:
        what = f"no treadmill named {exc.name!r}"
        if exc.address is not None:
            what += f" at {exc.address}"
    elif exc.address is not None:
        what = f"no treadmill at {exc.address}"
    else:
        what = "no FTMS treadmill"
    return f"{what} heard in {seconds} (switched on, not connected to another app?); {SCAN_HINT}"
