"""The FTMS codec: Fitness Machine Service wire types for treadmills (pure, stdlib only).

Every message is a frozen dataclass with ``from_bytes`` / ``__bytes__`` (and ``decode``
returning lenient-decode diagnostics), shared by the daemon and the simulator. Sections (§)
refer to the Bluetooth SIG Fitness Machine Service v1.0. See docs/codec.md.
"""

from treadctl.ftms.control_point import (
    ControlRequest,
    OpCode,
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
    StopKind,
    StopOrPause,
    parse_control_request,
)
from treadctl.ftms.control_response import UNKNOWN_REQUEST_OP, ControlResponse, ResultCode
from treadctl.ftms.diagnostics import Diagnostic
from treadctl.ftms.errors import FtmsDecodeError, InvalidParameterError, UnknownOpCodeError
from treadctl.ftms.feature import FitnessMachineFeature, MachineFeature, TargetSettingFeature
from treadctl.ftms.machine_status import MachineStatus, MachineStatusOp
from treadctl.ftms.more_data import MoreDataAssembler, split_treadmill_data
from treadctl.ftms.ranges import SupportedInclinationRange, SupportedSpeedRange
from treadctl.ftms.service_data import FtmsServiceData, MachineType
from treadctl.ftms.training_status import TrainingStatus, TrainingStatusCode
from treadctl.ftms.treadmill_data import TreadmillData, TreadmillDataFlag
from treadctl.ftms.uuids import (
    CONTROL_POINT_UUID16,
    FEATURE_UUID16,
    FTMS_SERVICE_UUID16,
    INCLINE_RANGE_UUID16,
    MACHINE_STATUS_UUID16,
    SPEED_RANGE_UUID16,
    TRAINING_STATUS_UUID16,
    TREADMILL_DATA_UUID16,
    uuid128,
)

__all__ = [
    "CONTROL_POINT_UUID16",
    "FEATURE_UUID16",
    "FTMS_SERVICE_UUID16",
    "INCLINE_RANGE_UUID16",
    "MACHINE_STATUS_UUID16",
    "SPEED_RANGE_UUID16",
    "TRAINING_STATUS_UUID16",
    "TREADMILL_DATA_UUID16",
    "UNKNOWN_REQUEST_OP",
    "ControlRequest",
    "ControlResponse",
    "Diagnostic",
    "FitnessMachineFeature",
    "FtmsDecodeError",
    "FtmsServiceData",
    "InvalidParameterError",
    "MachineFeature",
    "MachineStatus",
    "MachineStatusOp",
    "MachineType",
    "MoreDataAssembler",
    "OpCode",
    "RequestControl",
    "Reset",
    "ResultCode",
    "SetTargetHeartRate",
    "SetTargetInclination",
    "SetTargetPower",
    "SetTargetResistance",
    "SetTargetSpeed",
    "SetTargetedDistance",
    "SetTargetedExpendedEnergy",
    "SetTargetedSteps",
    "SetTargetedStrides",
    "SetTargetedTrainingTime",
    "StartOrResume",
    "StopKind",
    "StopOrPause",
    "SupportedInclinationRange",
    "SupportedSpeedRange",
    "TargetSettingFeature",
    "TrainingStatus",
    "TrainingStatusCode",
    "TreadmillData",
    "TreadmillDataFlag",
    "UnknownOpCodeError",
    "parse_control_request",
    "split_treadmill_data",
    "uuid128",
]
