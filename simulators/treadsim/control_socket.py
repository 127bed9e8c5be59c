"""The control socket (``--control PATH``): JSON lines over a local unix socket.

Request, one JSON object per line::

    {"cmd": "press_stop"}
    {"cmd": "console_set_speed", "args": {"speed": 250}, "id": 7}
    {"cmd": "wait", "args": {"until": {"machine.belt_speed": {"max": 0}, "connected": false},
                             "timeout": 5}}

Answer, one line per request (``id`` echoed when given)::

    {"ok": true, "result": {...}, "id": 7}
    {"ok": false, "error": "unknown command 'x'; known: ...", "id": 7}

Commands: ``state``, ``wait`` and every action of :class:`Simulator` (``Simulator.ACTIONS``).
``wait`` conditions: a key of the state (``connected``, ``machine.belt_speed``, ...) mapped to
a value (equality) or to ``{"min": a, "max": b}``; the answer is the state that satisfied them,
or ``ok: false`` after ``timeout`` seconds (default 10).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from simulators.treadsim.hci_server import remove_stale_socket
from simulators.treadsim.simulator import Simulator
from simulators.treadsim.state import SimState

logger = logging.getLogger(__name__)

DEFAULT_WAIT_TIMEOUT = 10.0


def _lookup(state: dict[str, Any], key: str) -> Any:
    value: Any = state
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ValueError(f"unknown state key {key!r}")
        value = value[part]
    return value


def condition_holds(state: dict[str, Any], until: dict[str, Any]) -> bool:
    """Whether every ``key: expectation`` of a ``wait`` request holds in ``state``."""
    for key, expected in until.items():
        value = _lookup(state, key)
        if isinstance(expected, dict):
            low, high = expected.get("min"), expected.get("max")
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        elif value != expected:
            return False
    return True


async def handle_request(sim: Simulator, request: dict[str, Any]) -> dict[str, Any]:
    """Run one decoded request; never raises for a bad request (answers ok: false)."""
    answer: dict[str, Any]
    try:
        name = request["cmd"]
        arguments = request.get("args") or {}
        if not isinstance(name, str) or not isinstance(arguments, dict):
            raise ValueError("cmd must be a string and args an object")
        if name == "wait":
            until = arguments.get("until") or {}
            condition_holds(sim.state().to_dict(), until)  # validates the keys now
            timeout = float(arguments.get("timeout", DEFAULT_WAIT_TIMEOUT))

            def holds(state: SimState) -> bool:
                return condition_holds(state.to_dict(), until)

            async with asyncio.timeout(timeout):
                state = await sim.wait_for(holds)
            answer = {"ok": True, "result": state.to_dict()}
        else:
            answer = {"ok": True, "result": await sim.command(name, **arguments)}
    except TimeoutError:
        answer = {"ok": False, "error": "wait: timed out"}
    except (KeyError, TypeError, ValueError) as exc:
        answer = {"ok": False, "error": str(exc)}
    if "id" in request:
        answer["id"] = request["id"]
    return answer


class ControlSocket:
    """Serve the control protocol on unix socket ``path`` for ``sim``."""

    def __init__(self, sim: Simulator, path: str | os.PathLike[str]) -> None:
        self.sim = sim
        self.path = Path(path)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    if not isinstance(request, dict):
                        raise ValueError("a request is a JSON object")
                except ValueError as exc:
                    answer: dict[str, Any] = {"ok": False, "error": f"bad request: {exc}"}
                else:
                    answer = await handle_request(self.sim, request)
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def __aenter__(self) -> Self:
        remove_stale_socket(self.path)
        self._server = await asyncio.start_unix_server(self._client, str(self.path))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
