"""How decoded FTMS notifications become observations: a merged Treadmill Data record becomes a
:class:`Reading`; a Machine Status, a Training Status and an mph suspicion become
:class:`DeviceEvent` values."""

from __future__ import annotations

from treadctl.ftms import MachineStatus, MachineStatusOp, StopKind, TrainingStatus, TreadmillData
from treadctl.ftms.fields import TREADMILL_DATA_FIELDS
from treadctl.observations import DeviceEvent, EventKind, Reading

_READING_FIELDS = tuple((f.name, f.reading) for f in TREADMILL_DATA_FIELDS if f.reading)
"""(Treadmill Data field, Reading attribute) pairs, from the one field table."""

BELT_STOPPED_KINDS = frozenset(
    {EventKind.CONSOLE_PAUSE, EventKind.CONSOLE_STOP, EventKind.SAFETY_KEY}
)
"""Status events after which no cold start is pending any more."""


def reading_from(record: TreadmillData, at: float) -> Reading:
    """The Reading of a merged record: the fields the field table maps to a Reading."""
    values: dict[str, int | None] = {
        reading: getattr(record, name) for name, reading in _READING_FIELDS
    }
    return Reading(at, **values)


def mph_event(at: float, speed: int, ratio: float) -> DeviceEvent:
    """The event of a suspected mph device: the reported speed and the suspicious ratio."""
    return DeviceEvent(
        at,
        EventKind.MPH_SUSPECTED,
        value=speed,
        detail=f"reported/requested ratio {ratio:.3f}",
    )


def training_event(at: float, status: TrainingStatus) -> DeviceEvent:
    """The event of a Training Status value."""
    return DeviceEvent(
        at,
        EventKind.TRAINING_STATUS,
        value=int(status.status),
        detail=status.text or "",
    )


def status_event(status: MachineStatus) -> tuple[EventKind | None, int | None]:
    """The event kind and value of a Machine Status; (None, None) for an op the link ignores."""
    op = int(status.op)
    if op == MachineStatusOp.RESET:
        return EventKind.RESET, None  # control permission ended (the control session noted it)
    if op == MachineStatusOp.CONTROL_PERMISSION_LOST:
        return EventKind.CONTROL_LOST, None
    if op == MachineStatusOp.STOPPED_OR_PAUSED_BY_USER:
        if status.stop_kind == StopKind.PAUSE:
            return EventKind.CONSOLE_PAUSE, None
        return EventKind.CONSOLE_STOP, None
    if op == MachineStatusOp.STOPPED_BY_SAFETY_KEY:
        return EventKind.SAFETY_KEY, None
    if op == MachineStatusOp.STARTED_OR_RESUMED_BY_USER:
        return EventKind.CONSOLE_START, None
    if op == MachineStatusOp.TARGET_SPEED_CHANGED:
        return EventKind.TARGET_SPEED_CHANGED, status.target_speed
    if op == MachineStatusOp.TARGET_INCLINE_CHANGED:
        return EventKind.TARGET_INCLINE_CHANGED, status.target_incline
    return None, None
