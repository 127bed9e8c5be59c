"""The last known device info of each treadmill, kept in the state directory.

Home Assistant's discovery shows the treadmill's connection, model and Device Information
Service strings. They are only learnt when the treadmill is connected, so the daemon keeps the
last ones in ``<state_dir>/known-devices/<device>.json``: after a restart with the treadmill
switched off, Home Assistant sees the same device as before instead of a bare one (issue 16).

Best effort: a file that cannot be read or written is logged and otherwise ignored (nothing here
is on the path of a Stop; writes run in a worker thread, only when the info changed).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import structlog

from treadctl.observations import DeviceIdentity, DeviceInfo, InclineRange, SpeedRange

log = structlog.get_logger("treadctl.daemon")

_R = TypeVar("_R", SpeedRange, InclineRange)

DIRECTORY = "known-devices"
VERSION = 1


class KnownDevices:
    """Read and write ``<state_dir>/known-devices/<device>.json``."""

    def __init__(self, state_dir: Path) -> None:
        self.directory = state_dir / DIRECTORY

    def path(self, device: str) -> Path:
        return self.directory / f"{device}.json"

    def load(self, device: str) -> DeviceInfo | None:
        path = self.path(device)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("known_device_unreadable", path=str(path), error=str(exc))
            return None
        try:
            return info_from_json(json.loads(text))
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("known_device_invalid", path=str(path), error=str(exc))
            return None

    def save(self, device: str, info: DeviceInfo) -> bool:
        """Write atomically (temporary file, then rename); False when it failed (logged)."""
        path = self.path(device)
        tmp = path.with_suffix(".tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(info_to_json(info), indent=1) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("known_device_not_saved", path=str(path), error=str(exc))
            return False
        return True


def info_to_json(info: DeviceInfo) -> dict[str, Any]:
    return {"version": VERSION, **asdict(info)}


def info_from_json(body: Any) -> DeviceInfo:
    if not isinstance(body, dict) or body.get("version") != VERSION:
        raise ValueError("not a known-device file of this version")
    address = body["address"]
    name = body.get("name")
    if not isinstance(address, str) or not address or not (name is None or isinstance(name, str)):
        raise ValueError("address and name must be text")
    return DeviceInfo(
        address=address,
        name=name,
        speed_range=_range(SpeedRange, body.get("speed_range")),
        incline_range=_range(InclineRange, body.get("incline_range")),
        identity=_identity(body.get("identity")),
    )


def _range(kind: type[_R], value: Any) -> _R | None:
    if value is None:
        return None
    numbers = [value["minimum"], value["maximum"], value["increment"]]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise ValueError("range values must be integers")
    return kind(*numbers)


def _identity(value: Any) -> DeviceIdentity | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("identity must be an object")
    fields = {k: value.get(k) for k in DeviceIdentity.__dataclass_fields__}
    if not all(v is None or isinstance(v, str) for v in fields.values()):
        raise ValueError("identity strings must be text")
    return DeviceIdentity(**fields)
