"""More Data: records split over several Treadmill Data notifications (FTMS v1.0 §4.19).

A record larger than one notification (ATT MTU - 3 bytes) is sent as fragments. Every
fragment but the last has flag bit 0 ("More Data") = 1 and no Instantaneous Speed; the last
has bit 0 = 0 and the speed. Each field appears once across the fragments. A client merges
the fragments; on disconnect a partial record is dropped (§4.18).
"""

from __future__ import annotations

import dataclasses
from typing import Final

from treadctl.ftms.treadmill_data import FIELD_NAMES, TreadmillData, group_fields

ATT_MIN_MTU: Final = 23
"""Minimum ATT_MTU on LE (Core spec v5.x Vol 3 Part F §3.2.8)."""
ATT_NOTIFICATION_OVERHEAD: Final = 3
"""Op code (1) + attribute handle (2) of a Handle Value Notification (Vol 3 Part F §3.4.7.1)."""

_DATA_FIELDS: Final = tuple(
    name for name in FIELD_NAMES if name not in ("more_data", "instantaneous_speed", "wide_pace")
)


class MoreDataAssembler:
    """Merges More Data fragments into whole records (FTMS v1.0 §4.19).

    ``feed`` returns the merged record when the last fragment (More Data = 0) arrives, else
    None. A field sent twice in one record keeps its later value. ``reset`` drops a partial
    record (call it on disconnect, §4.18).
    """

    __slots__ = ("_partial",)

    def __init__(self) -> None:
        self._partial: dict[str, object] = {}

    @property
    def pending(self) -> bool:
        """True while fragments of an unfinished record are held."""
        return bool(self._partial)

    def reset(self) -> None:
        """Drop any partial record."""
        self._partial.clear()

    def feed(self, fragment: TreadmillData) -> TreadmillData | None:
        partial = self._partial
        if not fragment.more_data and not partial:
            return fragment  # the common case: a whole record in one notification
        for name in _DATA_FIELDS:
            value = getattr(fragment, name)
            if value is not None:
                partial[name] = value
        if fragment.wide_pace:
            partial["wide_pace"] = True
        if fragment.more_data:
            return None
        merged = dataclasses.replace(fragment, **partial)  # type: ignore[arg-type]
        partial.clear()
        return merged


def split_treadmill_data(record: TreadmillData, mtu: int) -> list[bytes]:
    """Encode ``record`` as one or more notifications that fit ATT MTU ``mtu`` (§4.19).

    A record that fits one notification (mtu - 3 bytes) is sent whole. Otherwise fields are
    packed in flag order, whole flag groups per fragment; every fragment but the last has
    More Data = 1; the last carries the Instantaneous Speed (More Data = 0). A record without
    a speed (itself a fragment) gives fragments that all have More Data = 1.
    """
    if mtu < ATT_MIN_MTU:
        raise ValueError(f"ATT MTU is at least {ATT_MIN_MTU} on LE, got {mtu}")
    payload = mtu - ATT_NOTIFICATION_OVERHEAD
    whole = bytes(record)
    if len(whole) <= payload:
        return [whole]
    groups = group_fields(record)  # (fields, wire size) per present group, bit order; no speed
    fragments: list[dict[str, int | None]] = []
    current: dict[str, int | None] = {}
    used = 2  # flags
    for names, size in groups:
        if used + size > payload:
            fragments.append(current)
            current, used = {}, 2
        for name in names:
            current[name] = getattr(record, name)
        used += size
    speed = record.instantaneous_speed
    if speed is not None and used + 2 > payload:
        fragments.append(current)
        current = {}
    fragments.append(current)
    out: list[bytes] = []
    last = len(fragments) - 1
    for index, fields in enumerate(fragments):
        fragment_speed = speed if index == last else None
        out.append(
            bytes(
                TreadmillData(
                    more_data=fragment_speed is None,
                    instantaneous_speed=fragment_speed,
                    wide_pace=record.wide_pace
                    and ("instantaneous_pace" in fields or "average_pace" in fields),
                    **fields,
                )
            )
        )
    return out
