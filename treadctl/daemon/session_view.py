"""Run one profile on one treadmill of a running daemon, with the live view in a terminal.

Used by ``treadctl session start`` (a person at the treadmill) and ``treadctl demo`` (which also
plays the person: it presses "resume" when a standing rest is over). Everything goes through the
device's command handler, like a command from MQTT: the same governor, the same refusals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from treadctl.commands import CommandResult, Resume, StartProfile
from treadctl.control.session_states import SessionSnapshot, SessionState
from treadctl.daemon.app import Daemon
from treadctl.daemon.device import REST_OVER_REASON, DeviceRuntime
from treadctl.daemon.live_view import render_heart_rate
from treadctl.workout.summary import SessionSummary


class SessionRefusedError(Exception):
    """The daemon refused to start the profile (the reply's message says why)."""


class _LiveLike(Protocol):
    def show(self, snap: SessionSnapshot, heart_rate: str | None = None) -> None: ...

    def message(self, text: str) -> None: ...


async def run_profile(
    daemon: Daemon,
    device_id: str,
    profile: str,
    view: _LiveLike,
    *,
    connect_timeout_s: float,
    auto_resume_rests: bool,
    resume_requests: asyncio.Queue[None] | None = None,
    start: Callable[[], Awaitable[CommandResult]] | None = None,
) -> SessionSummary:
    """Wait for the link, start ``profile`` and show progress until the session ends.

    ``auto_resume_rests``: press resume after each standing rest (the demo). Otherwise a rest
    that is over waits for ``resume_requests`` (e.g. Enter pressed in the terminal) or MQTT.
    """
    runtime = daemon.devices[device_id]
    view.message(f"Connecting to treadmill {device_id} ...")
    async with asyncio.timeout(connect_timeout_s):
        # Connected and the first Treadmill Data record in: a start needs fresh telemetry.
        await runtime.connected.wait()
        await runtime.reading.wait()
    info = runtime.governed.info
    if start is None:
        view.message(f"Connected to {info.name or info.address}; starting profile {profile!r}.")
        result = runtime.handle_local(StartProfile(profile))
    else:
        view.message(f"Connected to {info.name or info.address}; starting {profile}.")
        result = await start()
    if not result.ok:
        message = result.error.message if result.error else "refused"
        raise SessionRefusedError(message)
    data = result.data or {}
    if start is not None:
        view.message(
            f"{data.get('person')}: {data.get('program')} stage {data.get('stage')} "
            f"({data.get('stage_name')}), profile {data.get('profile')}"
        )
    warnings = data.get("warnings")
    for warning in warnings if isinstance(warnings, list) else ():
        view.message(f"note: {warning}")
    async with asyncio.TaskGroup() as tg:
        watcher = tg.create_task(_watch(runtime, view, auto_resume_rests))
        if resume_requests is not None:
            presser = tg.create_task(_resume_on_request(runtime, view, resume_requests))
        summary = await watcher
        if resume_requests is not None:
            presser.cancel()
    return summary


async def _watch(runtime: DeviceRuntime, view: _LiveLike, auto_resume: bool) -> SessionSummary:
    async for snap in runtime.runner.snapshots():
        feed = runtime.heart_rate
        shown = None
        if feed is not None:
            hr = feed.state()
            soft = feed.limits.soft_bpm if feed.limits is not None else None
            shown = render_heart_rate(hr.bpm, hr.holding, soft)
        view.show(snap, shown)
        if snap.state == SessionState.PAUSED and snap.reason == REST_OVER_REASON:
            if auto_resume:
                view.message("demo: the walker is ready and presses resume")
                result = runtime.handle_local(Resume())
                if not result.ok and result.error is not None:
                    view.message(f"resume refused: {result.error.message}")
            else:
                view.message("Rest over: press Enter (or 'resume' in Home Assistant) to go on.")
    summary = runtime.runner.summary
    if summary is None:  # pragma: no cover - snapshots() ends only on a terminal state
        raise RuntimeError("session ended without a summary")
    return summary


async def _resume_on_request(
    runtime: DeviceRuntime, view: _LiveLike, requests: asyncio.Queue[None]
) -> None:
    while True:
        await requests.get()
        result = runtime.handle_local(Resume())
        if not result.ok and result.error is not None:
            view.message(f"resume refused: {result.error.message}")
