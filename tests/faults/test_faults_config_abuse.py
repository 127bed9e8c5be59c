"""Configuration abuse: the real ``treadctl run`` refuses a bad file with exit 2 and a clear,
keyed message, and touches nothing before it does.

Each configuration points the Bluetooth transport and the broker at listening sockets that this
test owns; after the daemon exits, neither socket has a pending connection: a bad configuration
never reaches a treadmill or a broker (checked from outside, not from the daemon's output).
The loader's own unit tests are in tests/config; this is the process-level refusal.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXIT_USAGE = 2  # treadctl.cli.main.EXIT_USAGE: a configuration problem

pytestmark = [pytest.mark.faults, pytest.mark.crossprocess]

DEVICE = """
[[devices]]
id = "tm1"
name = "treadsim"
has_handrails = true
simulator = true
"""


def _base(ble_port: int, mqtt_port: int) -> str:
    return DEVICE + (
        f'\n[ble]\nbackend = "bumble"\ntransport = "tcp-client:127.0.0.1:{ble_port}"\n'
        f'\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {mqtt_port}\n'
    )


# (case id, text appended to the valid base, words the error must contain)
CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("toml-syntax", "\n[safety\nuser_cap_kmh = 2.0\n", ("line",)),
    ("yaml-instead-of-toml", "\nsegments:\n  - kind: warmup\n", ("line",)),
    ("unknown-safety-key", "\n[safety]\nuser_cap_kph = 2.0\n", ("safety.user_cap_kph", "unknown")),
    ("unknown-section", "\n[belt]\nspeed = 2.0\n", ("belt", "unknown")),
    # Someone writes the cap in 0.1 km/h (the FTMS wire unit is 0.01): refused, not scaled.
    ("wrong-unit-number", "\n[safety]\nuser_cap_kmh = 25\n", ("safety.user_cap_kmh", "4.0")),
    ("wrong-unit-string", '\n[safety]\nuser_cap_kmh = "2 km/h"\n', ("safety.user_cap_kmh",)),
    ("over-user-cap", "\n[safety]\nuser_cap_kmh = 3.5\n", ("safety.user_cap_kmh", "3.0")),
    ("over-absolute-cap", "\n[safety]\nuser_cap_kmh = 4.5\n", ("safety.user_cap_kmh", "4.0")),
    (
        "acceleration-too-high",
        "\n[safety]\nacceleration_kmh_per_s = 0.5\n",
        ("safety.acceleration_kmh_per_s",),
    ),
    ("nan-cap", "\n[safety]\nuser_cap_kmh = nan\n", ("safety.user_cap_kmh",)),
    ("stale-too-lax", "\n[safety]\nstale_telemetry_s = 30\n", ("safety.stale_telemetry_s",)),
]


@pytest.fixture
def listeners() -> Iterator[tuple[socket.socket, socket.socket]]:
    """Two listening sockets standing in for the simulator's HCI port and the broker."""
    made = []
    for _ in range(2):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        s.setblocking(False)
        made.append(s)
    try:
        yield made[0], made[1]
    finally:
        for s in made:
            s.close()


def _nobody_connected(listener: socket.socket) -> bool:
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def _run(config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TREADCTL_")}
    env.pop("CREDENTIALS_DIRECTORY", None)
    return subprocess.run(
        [sys.executable, "-m", "treadctl.cli.main", "run", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("case", "extra", "words"), CASES, ids=[c[0] for c in CASES])
def test_daemon_refuses_a_bad_config(
    tmp_path: Path,
    listeners: tuple[socket.socket, socket.socket],
    case: str,
    extra: str,
    words: tuple[str, ...],
) -> None:
    ble, broker = listeners
    # Duplicate tables are themselves a TOML error, so the [safety] cases stand alone.
    config = tmp_path / f"{case}.toml"
    config.write_text(_base(ble.getsockname()[1], broker.getsockname()[1]) + extra)
    result = _run(config)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert str(config) in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert _nobody_connected(ble), "a refused configuration reached for the treadmill"
    assert _nobody_connected(broker), "a refused configuration reached for the broker"


def test_the_same_base_config_is_accepted(tmp_path: Path) -> None:
    """Control case: the base is valid, so the refusals above are about the added text."""
    config = tmp_path / "good.toml"
    config.write_text(_base(1, 2))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TREADCTL_")}
    result = subprocess.run(
        [sys.executable, "-m", "treadctl.cli.main", "config", "check", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
