"""Faults of the twin, set over its control socket (pure state; the twin consumes them).

- ``fail_next(method, error, message)``: the next call of ``method`` (``Connect``,
  ``WriteValue``, ``StartNotify``, ``ReadValue``, ``StartDiscovery``, ``Disconnect``) fails with
  the D-Bus error ``error`` (e.g. ``org.bluez.Error.InProgress``) and ``message``. A ``Connect``
  failing with ``org.bluez.Error.Failed`` / ``le-connection-abort-by-local`` connects and drops
  the link first, as bluetoothd does for that error.
- ``withhold_services``: the next connection never reports ``ServicesResolved``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

METHODS = frozenset(
    {"Connect", "Disconnect", "WriteValue", "ReadValue", "StartNotify", "StartDiscovery"}
)
ERRORS = frozenset(
    {
        "org.bluez.Error.Failed",
        "org.bluez.Error.InProgress",
        "org.bluez.Error.NotConnected",
        "org.bluez.Error.NotPermitted",
        "org.bluez.Error.NotReady",
        "org.bluez.Error.NotSupported",
        "org.bluez.Error.NotAuthorized",
        "org.bluez.Error.AlreadyConnected",
    }
)
"""Error names documented for these methods in doc/org.bluez.Device.rst, Adapter.rst and
GattCharacteristic.rst."""
ABORT_BY_LOCAL = "le-connection-abort-by-local"


class FaultError(ValueError):
    """A fault request the twin does not know."""


@dataclass(frozen=True, slots=True)
class Failure:
    error: str
    message: str


@dataclass(slots=True)
class Faults:
    """Pending faults (see the module docstring)."""

    next_failure: dict[str, list[Failure]] = field(default_factory=dict)
    withhold_services: bool = False

    def fail_next(self, method: str, error: str, message: str = "") -> None:
        if method not in METHODS:
            raise FaultError(f"unknown method {method!r} (one of {', '.join(sorted(METHODS))})")
        if error not in ERRORS:
            raise FaultError(f"unknown error {error!r} (one of {', '.join(sorted(ERRORS))})")
        self.next_failure.setdefault(method, []).append(Failure(error, message))

    def take(self, method: str) -> Failure | None:
        """The failure pending for ``method`` (consumed), or None."""
        pending = self.next_failure.get(method)
        if not pending:
            return None
        failure = pending.pop(0)
        if not pending:
            del self.next_failure[method]
        return failure

    def take_withhold_services(self) -> bool:
        withhold, self.withhold_services = self.withhold_services, False
        return withhold

    def pending(self) -> dict[str, object]:
        return {
            "next_failure": {
                method: [f"{f.error}: {f.message}" for f in failures]
                for method, failures in self.next_failure.items()
            },
            "withhold_services": self.withhold_services,
        }
