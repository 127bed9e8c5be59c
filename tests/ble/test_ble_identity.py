"""Device Information Service strings as devices send them (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from treadctl.ble.identity import DIS_STRINGS, MAX_CHARS, dis_text, read_identity
from treadctl.observations import DeviceIdentity


def test_padding_terminators_and_bad_bytes() -> None:
    assert dis_text(b"Retro GmbH") == "Retro GmbH"
    assert dis_text(b"RT-1\x00\x00\x00") == "RT-1"
    assert dis_text(b"  2.4.1  ") == "2.4.1"
    assert dis_text(b"\x00\x00") is None
    assert dis_text(b"") is None
    assert dis_text(b"\xff\xfeABC") == "\ufffd\ufffdABC"
    assert dis_text(b"line\nbreak") == "linebreak"
    assert dis_text(b"x" * 200) == "x" * MAX_CHARS


@given(st.binary(max_size=300))
def test_any_bytes_give_short_printable_text_or_none(raw: bytes) -> None:
    text = dis_text(raw)
    assert text is None or (0 < len(text) <= MAX_CHARS and text.isprintable())


async def test_read_identity_keeps_what_could_be_read() -> None:
    values = {0x2A29: b"Retro GmbH", 0x2A24: b"RT-1\x00", 0x2A26: b"\x00"}

    async def read(uuid16: int) -> bytes | None:
        return values.get(uuid16)

    assert await read_identity(read) == DeviceIdentity(
        manufacturer="Retro GmbH", model_number="RT-1"
    )

    async def nothing(uuid16: int) -> bytes | None:
        return None

    assert await read_identity(nothing) is None
    assert set(DIS_STRINGS.values()) == set(DeviceIdentity.__dataclass_fields__)
