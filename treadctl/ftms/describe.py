"""One-line human descriptions of decoded FTMS values (for logs and ``treadctl decode``).

Values are shown in display units (km/h, %, kcal); the wire integers stay in the values.
"""

from __future__ import annotations

from enum import Enum, IntFlag

from treadctl.ftms.control_point import (
    RequestControl,
    Reset,
    SetTargetedDistance,
    SetTargetedExpendedEnergy,
    SetTargetedSteps,
    SetTargetedStrides,
    SetTargetedTrainingTime,
    SetTargetHeartRate,
    SetTargetInclination,
    SetTargetPower,
    SetTargetResistance,
    SetTargetSpeed,
    StartOrResume,
    StopOrPause,
)
from treadctl.ftms.control_response import UNKNOWN_REQUEST_OP, ControlResponse
from treadctl.ftms.feature import FitnessMachineFeature
from treadctl.ftms.fields import bit_groups
from treadctl.ftms.machine_status import MachineStatus, MachineStatusOp
from treadctl.ftms.ranges import SupportedInclinationRange, SupportedSpeedRange
from treadctl.ftms.service_data import FtmsServiceData
from treadctl.ftms.training_status import TrainingStatus
from treadctl.ftms.treadmill_data import TreadmillData


def _name(value: int) -> str:
    """An enum member as lower-case words, else the value in hex."""
    if isinstance(value, Enum):
        return value.name.lower().replace("_", " ")
    return f"0x{value:02x}"


def _flag_names(value: IntFlag) -> str:
    """The set members of a flag value, lower case, joined by "|" (unknown bits in hex)."""
    known = 0
    names: list[str] = []
    for member in type(value):
        if member.name is not None and value & member == member:
            names.append(member.name.lower())
            known |= int(member)
    rest = int(value) & ~known
    if rest:
        names.append(f"0x{rest:x}")
    return "|".join(names) or "none"


def _treadmill(d: TreadmillData) -> str:
    """One part per present field, labelled and in units from the field table; the fields of
    flag bits 4 (elevation) and 7 (energy) are shown together, as they are sent."""
    parts: list[str] = ["fragment (more data follows)"] if d.more_data else []
    for bit, group in bit_groups():
        values = [getattr(d, f.name) for f in group]
        if bit == 4:
            up, down = group
            if values[0] is not None and values[1] is not None:
                parts.append(
                    f"elevation +{up.number(values[0])}/-{down.number(values[1])} {up.unit}"
                )
        elif bit == 7:
            if any(v is not None for v in values):
                total, hourly, minutely = (
                    f"{'n/a' if v is None else f.number(v)} {f.unit}"
                    for f, v in zip(group, values, strict=True)
                )
                parts.append(f"energy {total} ({hourly}, {minutely})")
        else:
            parts += [
                f"{f.label} {f.show(v)}"
                for f, v in zip(group, values, strict=True)
                if v is not None
            ]
    return "treadmill data: " + ", ".join(parts)


def _status(s: MachineStatus) -> str:
    text = f"machine status: {_name(s.op)}"
    if s.stop_kind is not None:
        text += f" ({_name(s.stop_kind)})"
    elif s.target_speed is not None:
        text += f" {s.target_speed / 100:.2f} km/h"
    elif s.target_incline is not None:
        text += f" {s.target_incline / 10:.1f} %"
    elif s.parameter and s.op not in (
        MachineStatusOp.STOPPED_OR_PAUSED_BY_USER,
        MachineStatusOp.TARGET_SPEED_CHANGED,
        MachineStatusOp.TARGET_INCLINE_CHANGED,
    ):
        text += f" parameter [{s.parameter.hex(' ')}]"
    return text


def _request(r: object) -> str:
    match r:
        case RequestControl() | Reset() | StartOrResume():
            return f"control request: {_name(r.op_code)}"
        case SetTargetSpeed(speed=speed):
            return f"control request: set target speed {speed / 100:.2f} km/h"
        case SetTargetInclination(incline=incline):
            return f"control request: set target inclination {incline / 10:.1f} %"
        case StopOrPause(kind=kind):
            return f"control request: {_name(kind)}"
        case SetTargetResistance(level=level):
            return f"control request: set target resistance {level / 10:.1f}"
        case SetTargetPower(watts=watts):
            return f"control request: set target power {watts} W"
        case SetTargetHeartRate(bpm=bpm):
            return f"control request: set target heart rate {bpm} bpm"
        case SetTargetedExpendedEnergy(kcal=kcal):
            return f"control request: set targeted energy {kcal} kcal"
        case SetTargetedSteps(steps=steps):
            return f"control request: set targeted steps {steps}"
        case SetTargetedStrides(strides=strides):
            return f"control request: set targeted strides {strides}"
        case SetTargetedDistance(distance_m=distance):
            return f"control request: set targeted distance {distance} m"
        case SetTargetedTrainingTime(seconds=seconds):
            return f"control request: set targeted training time {seconds} s"
    return f"control request: {r!r}"


def describe(value: object) -> str:
    """A one-line description of any decoded FTMS value."""
    match value:
        case TreadmillData():
            return _treadmill(value)
        case MachineStatus():
            return _status(value)
        case TrainingStatus(status=status, text=text):
            shown = "" if text is None else f' "{text}"'
            return f"training status: {_name(status)}{shown}"
        case ControlResponse(request_op=op, result=result, parameter=parameter, bare=bare):
            target = "unknown request" if op == UNKNOWN_REQUEST_OP else _name(op)
            text = f"control response: {target} -> {_name(result)}"
            if parameter:
                text += f" parameter [{parameter.hex(' ')}]"
            return text + (" (bare result byte)" if bare else "")
        case SupportedSpeedRange(minimum=low, maximum=high, increment=step):
            return f"speed range: {low / 100:.2f}-{high / 100:.2f} km/h by {step / 100:.2f}"
        case SupportedInclinationRange(minimum=low, maximum=high, increment=step):
            return f"inclination range: {low / 10:.1f}-{high / 10:.1f} % by {step / 10:.1f}"
        case FitnessMachineFeature(machine=machine, target_setting=target):
            return f"features: machine {_flag_names(machine)}; targets {_flag_names(target)}"
        case FtmsServiceData(available=available, machine_type=machine_type):
            state = "available" if available else "not available"
            return f"service data: {state}, type {_flag_names(machine_type)}"
    return _request(value)
