"""The interactive prompt, when ``treadsim`` runs in a terminal.

Short words for what a person does at the machine, plus the fault actions::

    start | pause | stop | key out | key in | on | off | take | speed 2.5
    disconnect | delay 3 | drop | answer 4 | mute | unmute | state | help | quit

Every action name of the Python API (``press_start``, ``answer_next_with 4``, ...) works too.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any, TextIO

from simulators.treadsim.simulator import Simulator
from treadctl.units import kmh_to_centi

WORDS: dict[str, str] = {
    "start": "press_start",
    "pause": "press_pause",
    "stop": "press_stop",
    "key out": "pull_safety_key",
    "key in": "insert_safety_key",
    "on": "step_on",
    "off": "step_off",
    "take": "take_control",
    "speed": "console_set_speed",
    "disconnect": "disconnect_now",
    "delay": "delay_next_indication",
    "drop": "drop_next_indication",
    "answer": "answer_next_with",
    "mute": "stop_notifying",
    "unmute": "resume_notifying",
    # the heart-rate strap (--strap)
    "hr spike": "strap_spike",
    "hr freeze": "strap_freeze",
    "hr unfreeze": "strap_unfreeze",
    "hr contact": "strap_contact",
    "hr drop": "strap_dropout",
    "hr resume": "strap_resume",
    "hr battery": "strap_battery",
    "hr disconnect": "strap_disconnect",
}
ARGUMENT = {
    "console_set_speed": "speed",
    "delay_next_indication": "seconds",
    "answer_next_with": "result",
    "strap_spike": "bpm",
    "strap_battery": "percent",
    "strap_contact": "detected",
}
OPTIONAL_ARGUMENT = {"strap_freeze": "bpm", "strap_dropout": "seconds"}
"""Commands whose one value may be left out (freeze at the last value; drop out until resume)."""


def parse_line(line: str) -> tuple[str, dict[str, Any]] | None:
    """A prompt line to ``(command, arguments)``; None for an empty line."""
    words = line.split()
    if not words:
        return None
    head = " ".join(words[:2]) if " ".join(words[:2]) in WORDS else words[0]
    rest = words[len(head.split()) :]
    name = WORDS.get(head, head)
    arguments: dict[str, Any] = {}
    if name in OPTIONAL_ARGUMENT and len(rest) <= 1:
        if rest:
            value = rest[0]
            key = OPTIONAL_ARGUMENT[name]
            arguments[key] = int(value) if key == "bpm" else float(value)
        return name, arguments
    if name in ARGUMENT:
        if len(rest) != 1:
            raise ValueError(f"{head} takes one value")
        key = ARGUMENT[name]
        if name == "console_set_speed":
            arguments[key] = kmh_to_centi(float(rest[0]))  # typed in km/h
        elif name == "answer_next_with":
            arguments[key] = int(rest[0], 0)
        elif name == "strap_contact":
            if rest[0] not in ("on", "off"):
                raise ValueError("hr contact takes on or off")
            arguments[key] = rest[0] == "on"
        elif name in ("strap_spike", "strap_battery"):
            arguments[key] = int(rest[0])
        else:
            arguments[key] = float(rest[0])
    elif rest:
        raise ValueError(f"{head} takes no value")
    return name, arguments


async def run_prompt(
    sim: Simulator,
    quit_event: asyncio.Event,
    out: TextIO = sys.stdout,
    stdin: TextIO = sys.stdin,
) -> None:
    """Read commands from ``stdin`` (a terminal) until EOF, ``quit`` or cancellation."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    fd = stdin.fileno()
    pending = b""

    def readable() -> None:
        # Raw reads: a buffered readline() would swallow lines the reader never signals again.
        nonlocal pending
        chunk = os.read(fd, 4096)
        if not chunk:
            loop.remove_reader(fd)
            lines.put_nowait(None)
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            lines.put_nowait(line.decode(errors="replace"))

    loop.add_reader(fd, readable)
    try:
        while True:
            out.write("treadsim> ")
            out.flush()
            line = await lines.get()
            if line is None or line.strip() in ("quit", "exit"):
                quit_event.set()
                return
            if line.strip() == "help":
                out.write(__doc__ or "")
                continue
            try:
                parsed = parse_line(line)
                if parsed is None:
                    continue
                result = await sim.command(parsed[0], **parsed[1])
            except (ValueError, TypeError) as exc:
                out.write(f"error: {exc}\n")
                continue
            out.write(json.dumps(result, indent=None) + "\n")
    finally:
        loop.remove_reader(fd)
