"""``[ble]``: how treadmills are reached (backend, transport, deadlines, link rules)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from treadctl.config.fields import Backend, check_transport
from treadctl.config.section import Section
from treadctl.numbers import Number, WholeNumber


class BleConfig(Section):
    """``[ble]``: how treadmills are reached."""

    backend: Backend = "bluez"
    """``bluez`` (the system's Bluetooth, production) or ``bumble`` (simulator, USB dongles)."""
    transport: Annotated[str | None, AfterValidator(check_transport)] = None
    """Bumble HCI transport, e.g. ``tcp-client:127.0.0.1:9000``; required with ``bumble``."""
    adapter: str | None = None
    """BlueZ adapter (``hci0``); the system default when absent."""
    connect_timeout_s: Annotated[Number, Field(gt=0, le=120)] = 20.0
    scan_timeout_s: Annotated[Number, Field(gt=0, le=120)] = 10.0
    control_point_deadline_s: Annotated[Number, Field(gt=0, le=10)] = 3.0
    """How long a control procedure waits for its indication (FTMS §4.16.3; 3 s default)."""
    idle_release_s: Annotated[Number, Field(gt=0)] = 60.0
    """Release control after this long without a session, so the console is not locked."""
    idle_release: Literal["reset", "disconnect"] = "reset"
    """How control is released: ``reset`` (FTMS Reset, ends the permission) or ``disconnect``
    (for treadmills that keep their console locked after a Reset)."""
    reconnect_max_backoff_s: Annotated[Number, Field(gt=0, le=600)] = 30.0
    connect_attempts: Annotated[WholeNumber, Field(ge=1, le=10)] = 3
    """Attempts inside one connect (bleak-retry-connector)."""
    gatt_timeout_s: Annotated[Number, Field(gt=0, le=60)] = 5.0
    """Deadline of each GATT read, subscription and disconnect during set-up and teardown."""
    first_reading_timeout_s: Annotated[Number, Field(gt=0, le=30)] = 3.0
    """Start waits this long for the first Treadmill Data after connecting."""
    cold_start_timeout_s: Annotated[Number, Field(gt=0, le=30)] = 8.0
    """After Start, speed changes wait until the belt reports movement or this long."""
    control_retry_base_s: Annotated[Number, Field(gt=0, le=60)] = 2.0
    """After a refused Request Control, no new request before this (doubling per refusal)."""
    mph_check: bool = True
    """Refuse speed-ups once the belt reports about 1.609 times the requested speed."""
    max_queued_readings: Annotated[WholeNumber, Field(ge=1, le=4096)] = 64
    """Readings held for a slow consumer before the oldest is dropped."""
    bumble_mtu: Annotated[WholeNumber, Field(ge=23, le=517)] | None = None
    """ATT MTU the Bumble backend asks for (23-517; Bumble's default, 247, when absent)."""
