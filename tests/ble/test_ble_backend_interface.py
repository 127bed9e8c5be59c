"""The Bumble backend classes satisfy the abstract interfaces of the *installed* bleak.

No mocks: the classes are checked with ``inspect`` against bleak's own base classes, and built
through bleak's real ``BleakScanner``/``BleakClient`` constructors (which pass their own keyword
arguments, so a signature bleak changes breaks this test).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from treadctl.ble.backend import select
from treadctl.ble.bumble_backend import BleakClientBumble, BleakScannerBumble

PAIRS: list[tuple[type[Any], type[Any]]] = [
    (BleakScannerBumble, BaseBleakScanner),
    (BleakClientBumble, BaseBleakClient),
]


def _abstract_names(base: type[Any]) -> set[str]:
    return set(base.__abstractmethods__)


def test_the_installed_bleak_still_declares_what_we_implement() -> None:
    # If bleak adds an abstract method, the next test fails; this one pins what we know of.
    assert _abstract_names(BaseBleakScanner) == {"start", "stop"}
    assert _abstract_names(BaseBleakClient) >= {
        "connect",
        "disconnect",
        "is_connected",
        "mtu_size",
        "pair",
        "unpair",
        "read_gatt_char",
        "read_gatt_descriptor",
        "write_gatt_char",
        "write_gatt_descriptor",
        "start_notify",
        "stop_notify",
    }


@pytest.mark.parametrize(("ours", "base"), PAIRS)
def test_no_abstract_method_is_left(ours: type[Any], base: type[Any]) -> None:
    assert issubclass(ours, base)
    assert not inspect.isabstract(ours), ours.__abstractmethods__
    assert ours.__abstractmethods__ == frozenset()


def _compatible(ours: inspect.Signature, theirs: inspect.Signature) -> list[str]:
    """Problems calling ``ours`` the way ``theirs`` may be called (empty list = compatible)."""
    problems: list[str] = []
    our_params = ours.parameters
    has_var_kw = any(p.kind is p.VAR_KEYWORD for p in our_params.values())
    has_var_pos = any(p.kind is p.VAR_POSITIONAL for p in our_params.values())
    positional_kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    their_positional = [p for p in theirs.parameters.values() if p.kind in positional_kinds]
    our_positional = [p for p in our_params.values() if p.kind in positional_kinds]
    for index, param in enumerate(their_positional):
        if index < len(our_positional):
            if our_positional[index].name != param.name:
                problems.append(f"positional {index}: {our_positional[index].name} != {param.name}")
        elif not has_var_pos:
            problems.append(f"missing positional {param.name}")
    for param in theirs.parameters.values():
        if param.kind is param.KEYWORD_ONLY and param.name not in our_params and not has_var_kw:
            problems.append(f"missing keyword {param.name}")
        if param.kind is param.VAR_KEYWORD and not has_var_kw:
            problems.append("missing **kwargs")
        if param.kind is param.VAR_POSITIONAL and not has_var_pos:
            problems.append("missing *args")
    for name, param in our_params.items():
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        if name not in theirs.parameters and param.default is param.empty:
            problems.append(f"extra required parameter {name}")
    return problems


@pytest.mark.parametrize(("ours", "base"), PAIRS)
def test_signatures_are_compatible_with_the_base_class(ours: type[Any], base: type[Any]) -> None:
    names = _abstract_names(base) | {"__init__"} | ({"name"} if base is BaseBleakClient else set())
    for name in sorted(names):
        their_attr = inspect.getattr_static(base, name)
        our_attr = inspect.getattr_static(ours, name)
        if isinstance(their_attr, property):
            assert isinstance(our_attr, property), name
            continue
        assert inspect.iscoroutinefunction(our_attr) == inspect.iscoroutinefunction(their_attr), (
            name
        )
        problems = _compatible(inspect.signature(our_attr), inspect.signature(their_attr))
        assert problems == [], f"{ours.__name__}.{name}: {problems}"


async def test_bleaks_own_constructors_build_the_selected_backends() -> None:
    scanner_cls, client_cls = select("bumble", "tcp-client:127.0.0.1:1")
    assert scanner_cls is not None
    assert client_cls is not None
    # bleak passes scanning_mode, bluez=, cb= (scanner) and services=, timeout=, bluez=, winrt=
    # (client) plus any extra keyword argument: construction is the proof they are accepted.
    scanner = BleakScanner(backend=scanner_cls, service_uuids=["1826"])
    client = BleakClient("F1:F2:F3:F4:F5:F6", backend=client_cls, timeout=3, services=["1826"])
    assert scanner.backend_id == scanner_cls.__name__
    assert client.address == "F1:F2:F3:F4:F5:F6"
    assert not client.is_connected
    assert client.mtu_size == 23


async def test_an_extra_keyword_argument_reaches_the_backend() -> None:
    client = BleakClient(
        "F1:F2:F3:F4:F5:F6", backend=BleakClientBumble, bumble_transport="unix:/nonexistent"
    )
    assert client.name == "F1-F2-F3-F4-F5-F6"
    with pytest.raises(Exception, match="nonexistent"):
        await client.connect()


def test_bluez_is_the_platform_default_and_takes_no_transport() -> None:
    assert select("bluez", None) == (None, None)
    with pytest.raises(ValueError, match="bumble backend only"):
        select("bluez", "usb:0")
    with pytest.raises(ValueError, match=r"needs ble\.transport"):
        select("bumble", None)
    with pytest.raises(ValueError, match="unknown BLE backend"):
        select("winrt", None)  # type: ignore[arg-type]
