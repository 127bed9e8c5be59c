"""A daemon that cannot connect says why: in its log (the first failure at once, repeats rate
limited), in the MQTT state's ``link_error``, in systemd's ``STATUS=`` (before READY=1 too) and in
``treadctl status``. Three treadmills, three real failures: a Bumble transport nobody listens
on, a name nobody advertises, BlueZ on a system bus that does not exist."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.daemon import REPO_ROOT, DaemonRig, DeviceSpec
from harness.polling import poll
from harness.systemd_notify import NotifyListener
from treadctl.daemon.children import free_port

pytestmark = pytest.mark.crossprocess


def _devices(closed_port: int, sim_transport: str) -> list[dict[str, Any]]:
    devices: list[dict[str, Any]] = [
        {
            "id": "refused",
            "address": "F0:F1:F2:F3:F4:20",
            "backend": "bumble",
            "transport": f"tcp-client:127.0.0.1:{closed_port}",
        },
        {
            "id": "unheard",
            "name": "NoSuchTreadmill",
            "backend": "bumble",
            "transport": sim_transport,
        },
        {"id": "nobluez", "address": "F0:F1:F2:F3:F4:21", "backend": "bluez"},
    ]
    return [{**d, "has_handrails": True} for d in devices]


async def test_every_failed_attempt_is_explained(tmp_path: Path) -> None:
    async with DaemonRig(tmp_path, [DeviceSpec("sim")]) as rig:
        closed = free_port()
        rig.extra_config = {
            "devices": _devices(closed, rig.sims["sim"].hci_client_spec),
            "ble": {"scan_timeout_s": 1.0, "reconnect_max_backoff_s": 1.0},
        }
        rig.write_config()
        with NotifyListener() as listener:
            daemon = await rig.start_daemon(
                wait_online=False,
                notify_socket=listener.address,
                env={"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/no-system-bus"},
            )
            expected = {
                "refused": ("transport_refused", f"tcp-client:127.0.0.1:{closed} refused"),
                "unheard": (
                    "not_found",
                    "no treadmill named 'NoSuchTreadmill' heard in 1 s",
                ),
                "nobluez": ("bluez_unreachable", "BlueZ not reachable on the system D-Bus"),
            }
            for device, (code, words) in expected.items():

                def failed(r: dict[str, Any], d: str = device) -> bool:
                    return r.get("event") == "link_failed" and r.get("device") == d

                line = await daemon.wait_log(failed)
                assert line["level"] == "warning"
                assert line["problem"] == code
                assert words in line["error"]
                assert line["attempts"] == 1
                state = await rig.mqtt.latest_state(device, lambda s: bool(s.get("link_error")))
                assert state["link"] is False
                assert words in state["link_error"]
            # STATUS= names every reason before READY=1 (which waits up to 30 s).
            status = await poll(
                lambda: next(
                    (
                        m["STATUS"]
                        for m in listener.drain()
                        if all(w in m.get("STATUS", "") for _c, w in expected.values())
                    ),
                    None,
                ),
                what="STATUS= with every reason",
            )
            assert "refused: disconnected (Bumble transport" in status
            assert not any("READY" in m for m in listener.received)

            # Repeats are rate limited: attempts go on about every second, lines do not.
            await daemon.wait_log(
                lambda r: (
                    r.get("event") == "link_failed"
                    and r.get("device") == "refused"
                    and r.get("attempts", 0) > 1
                    and r.get("unlogged", 0) >= 1
                ),
                within=30.0,
            )
            lines = [
                r
                for r in daemon.logs()
                if r.get("event") == "link_failed" and r.get("device") == "refused"
            ]
            assert lines[-1]["attempts"] > len(lines)

            shown = await _treadctl_status(rig.config_path)
            assert expected["nobluez"][1] in shown["nobluez"]["state"]["link_error"]
            assert await daemon.terminate() == 0


async def _treadctl_status(config: Path) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "treadctl.cli.main",
        "status",
        "--config",
        str(config),
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        stdout=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, _ = await process.communicate()
    rows = [json.loads(line) for line in out.decode().splitlines()]
    return {row["device"]: row for row in rows}


async def test_a_terminal_session_says_why_the_treadmill_is_unreachable(tmp_path: Path) -> None:
    config = tmp_path / "treadctl.toml"
    config.write_text(
        f'state_dir = "{tmp_path}"\n\n[ble]\nscan_timeout_s = 1.0\nconnect_timeout_s = 1.0\n\n'
        "[history]\nenabled = false\n\n"
        '[[devices]]\nid = "home"\naddress = "AA:BB:CC:DD:EE:01"\nhas_handrails = true\n',
        encoding="utf-8",
    )
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO_ROOT),
        DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={tmp_path}/no-system-bus",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "treadctl.cli.main", "session", "start", "retro-beginner",
        "--config", str(config),
        env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, _err = await process.communicate()
    assert process.returncode == 1
    assert "treadmill home not reachable: BlueZ not reachable on the system D-Bus" in out.decode()
