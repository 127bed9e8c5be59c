"""sd_notify client: the datagrams that arrive on a socket the test binds (path and abstract)."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from treadctl.daemon import notify as notify_module
from treadctl.daemon.notify import Notifier, NotifyError, format_message, watchdog_interval


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    address = str(tmp_path / "notify.sock")
    sock.bind(address)
    sock.settimeout(5)  # a bound on a failure, not a timed assertion
    try:
        yield address, sock
    finally:
        sock.close()


@pytest.fixture
def abstract_socket() -> Iterator[tuple[str, socket.socket]]:
    name = f"treadctl-test-{os.getpid()}-{os.urandom(4).hex()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(5)
    try:
        yield "@" + name, sock
    finally:
        sock.close()


def _receive(sock: socket.socket) -> dict[str, str]:
    data = sock.recv(4096)
    assert data.endswith(b"\n")
    return dict(line.split("=", 1) for line in data.decode().splitlines())


@pytest.mark.parametrize("which", ["path_socket", "abstract_socket"])
def test_lifecycle_messages_arrive(which: str, request: pytest.FixtureRequest) -> None:
    address, sock = request.getfixturevalue(which)
    with Notifier.from_environ({"NOTIFY_SOCKET": address}) as notifier:
        assert notifier.enabled
        assert notifier.ready(status="2 treadmills connected, broker up")
        assert notifier.status("walking: segment 2/5\nsecond line")
        assert notifier.watchdog()
        assert notifier.stopping()
    assert _receive(sock) == {"READY": "1", "STATUS": "2 treadmills connected, broker up"}
    assert _receive(sock) == {"STATUS": "walking: segment 2/5 second line"}
    assert _receive(sock) == {"WATCHDOG": "1"}
    assert _receive(sock) == {"STOPPING": "1"}


def test_exact_datagram_bytes(path_socket: tuple[str, socket.socket]) -> None:
    address, sock = path_socket
    with Notifier(address) as notifier:
        notifier.notify(READY=1, STATUS="up", MAINPID=1234)
    assert sock.recv(4096) == b"READY=1\nSTATUS=up\nMAINPID=1234\n"


def test_disabled_without_notify_socket() -> None:
    notifier = Notifier.from_environ({})
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog() is False
    assert Notifier.from_environ({"NOTIFY_SOCKET": ""}).enabled is False


def test_module_level_notify_uses_the_environment(
    monkeypatch: pytest.MonkeyPatch, abstract_socket: tuple[str, socket.socket]
) -> None:
    address, sock = abstract_socket
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setattr(notify_module, "_default", None)
    try:
        assert notify_module.notify(READY=1)
        assert _receive(sock) == {"READY": "1"}
        assert notify_module.default_notifier() is notify_module.default_notifier()
    finally:
        notify_module.default_notifier().close()


def test_send_failure_is_a_typed_error(tmp_path: Path) -> None:
    address = str(tmp_path / "nobody-listens.sock")
    with Notifier(address) as notifier, pytest.raises(NotifyError) as info:
        notifier.watchdog()
    assert info.value.errno is not None
    assert info.value.address == address


def test_a_full_queue_drops_instead_of_blocking(path_socket: tuple[str, socket.socket]) -> None:
    address, sock = path_socket  # nobody reads: the kernel queue fills up
    with Notifier(address) as notifier:
        results = [notifier.watchdog() for _ in range(5000)]
    assert results[0] is True
    assert False in results  # dropped once full, without blocking or raising
    received = 0
    sock.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        while sock.recv(64) == b"WATCHDOG=1\n":
            received += 1
    assert received == results.count(True)


def test_unsupported_address_is_refused() -> None:
    with pytest.raises(NotifyError, match="vsock"):
        Notifier("vsock:2:1234")


@pytest.mark.parametrize("fields", [{}, {"ready": 1}, {"1X": 1}])
def test_invalid_fields_are_refused(fields: dict[str, int]) -> None:
    with pytest.raises(NotifyError):
        format_message(fields)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "30000000"}, 15.0),  # WatchdogSec=30 -> ping every 15 s
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # armed for another process
        ({"WATCHDOG_USEC": "1"}, 0.0000005),
    ],
)
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval(env, pid=4242) == expected


def test_watchdog_interval_defaults_to_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "10000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval() == 5.0


@pytest.mark.parametrize(
    "env",
    [
        {"WATCHDOG_USEC": "thirty"},
        {"WATCHDOG_USEC": "0"},
        {"WATCHDOG_USEC": "-5"},
        {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "me"},
    ],
)
def test_malformed_watchdog_variables_are_errors(env: dict[str, str]) -> None:
    with pytest.raises(NotifyError):
        watchdog_interval(env, pid=4242)
