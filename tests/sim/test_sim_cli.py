"""Pure parts of the shell: prompt words, control-socket conditions, preset files."""

from __future__ import annotations

import asyncio
import io
import os

import pytest

from harness.simulator import in_process_simulator
from simulators.treadsim.control_socket import condition_holds
from simulators.treadsim.presets import load_preset, preset_from_toml, preset_names
from simulators.treadsim.prompt import parse_line, run_prompt
from simulators.treadsim.quirks import Quirk, parse_quirks


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("start", ("press_start", {})),
        ("key out", ("pull_safety_key", {})),
        ("key in", ("insert_safety_key", {})),
        ("speed 2.3", ("console_set_speed", {"speed": 230})),  # km/h, rounded down
        ("answer 0x04", ("answer_next_with", {"result": 4})),
        ("delay 1.5", ("delay_next_indication", {"seconds": 1.5})),
        ("press_stop", ("press_stop", {})),
        ("   ", None),
    ],
)
def test_prompt_words(line: str, parsed: tuple[str, dict[str, object]] | None) -> None:
    assert parse_line(line) == parsed


@pytest.mark.parametrize("line", ["speed", "speed 1 2", "start now"])
def test_prompt_rejects_wrong_arity(line: str) -> None:
    with pytest.raises(ValueError, match="takes"):
        parse_line(line)


def test_wait_conditions() -> None:
    state = {"connected": True, "machine": {"belt_speed": 120, "phase": "running"}}
    assert condition_holds(state, {"connected": True, "machine.phase": "running"})
    assert condition_holds(state, {"machine.belt_speed": {"min": 100, "max": 120}})
    assert not condition_holds(state, {"machine.belt_speed": {"max": 119}})
    assert not condition_holds(state, {"connected": False})
    with pytest.raises(ValueError, match="unknown state key"):
        condition_holds(state, {"machine.nope": 1})


def test_bundled_presets_load_and_match_their_description() -> None:
    assert preset_names() == ["citysports-wp8", "generic", "gym-treadmill", "kingsmith-z1d"]
    pad = load_preset("citysports-wp8")
    assert (pad.speed.minimum, pad.speed.maximum, pad.speed.increment) == (100, 600, 50)
    assert pad.data_interval == pytest.approx(0.19)
    assert Quirk.INDICATE_BEFORE_WRITE_RESPONSE in pad.quirks
    gym = load_preset("gym-treadmill")
    assert gym.speed.maximum == 2000
    assert gym.incline is not None
    assert gym.speed.increment == 10


def test_preset_file_errors() -> None:
    with pytest.raises(ValueError, match="unknown preset"):
        load_preset("nope")
    with pytest.raises(ValueError, match="unknown quirk"):
        parse_quirks(["start-is-toggle"])
    text = """
device_name = "x"
[speed]
minimum = 10
maximum = 5
increment = 1
acceleration = 1
rundown = 1
safety_stop = 1
[data]
interval = 1.0
fields = []
[feature]
machine = 0
target = 0
[walker]
stride_m = 0.5
kcal_per_km = 1
"""
    with pytest.raises(ValueError, match="bad range"):
        preset_from_toml("broken", text)
    with pytest.raises(ValueError, match="unknown data fields"):
        preset_from_toml("broken", text.replace("fields = []", 'fields = ["pace"]'))


async def test_prompt_drives_the_simulator_until_quit() -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "r") as stdin, os.fdopen(write_fd, "w") as feed:
        feed.write("start\nkey out\nbogus\nstate\nquit\n")
        feed.flush()
        out = io.StringIO()
        quit_event = asyncio.Event()
        async with in_process_simulator(preset="generic", speedup=50) as sim:
            async with asyncio.timeout(10):
                await run_prompt(sim, quit_event, out=out, stdin=stdin)
            state = sim.state()
    assert quit_event.is_set()
    assert not state.machine.safety_key_inserted
    assert state.machine.phase.value == "idle"  # started, then the key stopped it
    text = out.getvalue()
    assert "error: unknown command 'bogus'" in text
    assert '"safety_key_inserted": false' in text
