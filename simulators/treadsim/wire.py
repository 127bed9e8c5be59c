"""Every byte the simulator sends or parses, built with the shared codec (``treadctl.ftms``).

The only place that knows how a preset's quirks change the encoding (padding, bare result
bytes, mph ranges, empty training strings, all-zero frames, service data).
"""

from __future__ import annotations

import math
import struct

from bumble.core import UUID, AdvertisingData

from simulators.treadsim.model import Snapshot
from simulators.treadsim.presets import Preset
from simulators.treadsim.quirks import Quirk
from treadctl.ftms import (
    FTMS_SERVICE_UUID16,
    ControlRequest,
    ControlResponse,
    FitnessMachineFeature,
    FtmsDecodeError,
    FtmsServiceData,
    MachineFeature,
    MachineStatus,
    MachineType,
    ResultCode,
    SupportedInclinationRange,
    SupportedSpeedRange,
    TargetSettingFeature,
    TrainingStatus,
    TrainingStatusCode,
    TreadmillData,
    UnknownOpCodeError,
    parse_control_request,
    split_treadmill_data,
)
from treadctl.units import KMH_PER_MPH

PADDED_STATUS_LENGTH = 3
"""Padded Machine Status frames are 3 bytes long (capture: ``04 00 00``, ``02 01 00``)."""


def feature(preset: Preset) -> bytes:
    """Fitness Machine Feature 0x2ACC (FTMS §4.3)."""
    return bytes(
        FitnessMachineFeature(
            MachineFeature(preset.machine_features), TargetSettingFeature(preset.target_features)
        )
    )


def speed_range(preset: Preset) -> bytes:
    """Supported Speed Range 0x2AD4 (FTMS §4.11), in 0.01 mph with speed-range-in-mph."""
    r = preset.speed
    if Quirk.SPEED_RANGE_IN_MPH in preset.quirks:
        low, high, step = (math.floor(v / KMH_PER_MPH) for v in (r.minimum, r.maximum, r.increment))
        return bytes(SupportedSpeedRange(low, high, max(1, step)))
    return bytes(SupportedSpeedRange(r.minimum, r.maximum, r.increment))


def incline_range(preset: Preset) -> bytes | None:
    """Supported Inclination Range 0x2AD5 (FTMS §4.12), or None when the machine has none."""
    if preset.incline is None or not preset.has_incline:
        return None
    r = preset.incline
    return bytes(SupportedInclinationRange(r.minimum, r.maximum, r.increment))


def training_status(preset: Preset, status: TrainingStatusCode) -> bytes:
    """Training Status 0x2AD3 (FTMS §4.10)."""
    text = "" if Quirk.EMPTY_TRAINING_STRING in preset.quirks else None
    return bytes(TrainingStatus(status, text))


def machine_status(preset: Preset, status: MachineStatus) -> bytes:
    """Fitness Machine Status 0x2ADA (FTMS §4.17), padded with padded-status-frames."""
    data = bytes(status)
    if Quirk.PADDED_STATUS_FRAMES in preset.quirks:
        data = data.ljust(PADDED_STATUS_LENGTH, b"\0")
    return data


def response(preset: Preset, op: int, result: int) -> bytes:
    """Control Point response indication ``80 <op> <result>`` (FTMS §4.16.2.22)."""
    bare = Quirk.BARE_RESULT_BYTE in preset.quirks
    return bytes(ControlResponse(op, result, bare=bare))


def parse_request(data: bytes) -> tuple[ControlRequest | None, int, ResultCode | None]:
    """Parse a control point write: ``(request, op, None)`` or ``(None, op, error result)``.

    An op code outside Table 4.15 answers Op Code Not Supported; a malformed parameter answers
    Invalid Parameter (FTMS §4.16.2.22). ``op`` is -1 for an empty write.
    """
    try:
        return parse_control_request(data), data[0], None
    except UnknownOpCodeError:
        return None, data[0], ResultCode.OP_CODE_NOT_SUPPORTED
    except FtmsDecodeError:
        if not data:
            return None, -1, None
        return None, data[0], ResultCode.INVALID_PARAMETER


def treadmill_data(preset: Preset, snap: Snapshot) -> TreadmillData:
    """The Treadmill Data record (FTMS §4.4) of the preset's layout at ``snap``."""
    fields = preset.data_fields
    has = fields.__contains__
    steps = Quirk.VENDOR_STEP_COUNT in preset.quirks
    return TreadmillData(
        instantaneous_speed=snap.belt_speed,
        average_speed=snap.average_speed if has("average_speed") else None,
        total_distance=snap.distance_m if has("distance") else None,
        inclination=snap.incline if has("inclination") and preset.has_incline else None,
        ramp_angle=None,
        positive_elevation_gain=snap.elevation_gain_dm if has("elevation_gain") else None,
        negative_elevation_gain=0 if has("elevation_gain") else None,
        total_energy=snap.energy_kcal if has("energy") else None,
        heart_rate=snap.heart_rate if has("heart_rate") else None,
        elapsed_time=snap.elapsed_s if has("elapsed") else None,
        remaining_time=snap.remaining_s if has("remaining") else None,
        step_count=snap.steps if steps else None,
    )


def treadmill_data_frames(preset: Preset, snap: Snapshot, mtu: int) -> list[bytes]:
    """The notifications for one record: split per More Data (§4.19) for ATT ``mtu``;
    all zero bytes with zero-frame-spam while the belt stands still."""
    record = treadmill_data(preset, snap)
    if Quirk.ZERO_FRAME_SPAM in preset.quirks and snap.belt_speed == 0:
        return [bytes(min(len(bytes(record)), mtu - 3))]
    return split_treadmill_data(record, mtu)


def service_data(preset: Preset) -> bytes | None:
    """FTMS Service Data for advertising (FTMS §3.1.1): available, treadmill."""
    if Quirk.NO_SERVICE_DATA in preset.quirks:
        return None
    return bytes(FtmsServiceData(available=True, machine_type=MachineType.TREADMILL))


LEGACY_ADV_MAX = 31
"""Bytes in a legacy advertising PDU payload (Core v5.3 Vol 6 Part B §2.3.1)."""


def advertising_data(preset: Preset, name: str) -> tuple[bytes, bytes]:
    """(advertising data, scan response): flags, 0x1826 UUID, service data, name."""
    uuid = struct.pack("<H", FTMS_SERVICE_UUID16)
    items: list[tuple[int, bytes]] = [
        (AdvertisingData.FLAGS, bytes([0x06])),  # LE General Discoverable, BR/EDR not supported
        (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, uuid),
    ]
    data = service_data(preset)
    if data is not None:
        items.append((AdvertisingData.SERVICE_DATA_16_BIT_UUID, uuid + data))
    adv = bytes(AdvertisingData(items))
    name_bytes = name.encode("utf-8")
    scan = bytes(AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, name_bytes)]))
    if len(adv) + len(name_bytes) + 2 <= LEGACY_ADV_MAX:
        adv = bytes(AdvertisingData([*items, (AdvertisingData.COMPLETE_LOCAL_NAME, name_bytes)]))
    return adv, scan


FTMS_UUID = UUID.from_16_bits(FTMS_SERVICE_UUID16)
