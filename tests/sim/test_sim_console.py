"""Console actions and fault injection through the Python API, seen by a Bumble client."""

from __future__ import annotations

import asyncio

import pytest

from harness.simulator import AttEvent, FtmsClient, central, in_process_simulator, wait_state
from simulators.treadsim import Simulator

SPEEDUP = 50.0


def sim(**kwargs: object):  # type: ignore[no-untyped-def]
    return in_process_simulator(preset="generic", speedup=SPEEDUP, **kwargs)


async def start(ftms: FtmsClient) -> None:
    assert await ftms.request(b"\x00") == bytes.fromhex("800001")
    assert await ftms.request(b"\x07") == bytes.fromhex("800701")


async def test_console_start_speed_pause_and_stop_are_notified() -> None:
    async with sim() as s, central(s.link) as c, c.connect_ftms() as ftms:
        begin = len(ftms.events)
        assert (await s.press_start()).done
        await wait_state(s, lambda st: st.machine.belt_speed == 50)
        assert (await s.console_set_speed(150)).done
        await wait_state(s, lambda st: st.machine.belt_speed == 150)
        assert (await s.press_pause()).done
        await wait_state(s, lambda st: st.machine.belt_speed == 0)
        await ftms.wait_event(lambda e: e.uuid16 == 0x2ADA and e.value == b"\x02\x02", start=begin)
        assert (await s.press_start()).done  # resume
        await wait_state(s, lambda st: st.machine.belt_speed == 150)
        assert (await s.press_stop()).done
        await wait_state(s, lambda st: st.machine.belt_speed == 0)
        await ftms.wait_event(lambda e: e.uuid16 == 0x2ADA and e.value == b"\x02\x01", start=begin)
        assert ftms.received(0x2ADA, start=begin) == [
            bytes.fromhex(h) for h in ("04", "059600", "0202", "04", "0201")
        ]
        assert ftms.received(0x2AD3, start=begin) == [
            bytes.fromhex(h) for h in ("000e", "000d", "000f")
        ]
        assert not (await s.press_stop()).done  # nothing to stop


async def test_safety_key_stops_the_belt_and_blocks_start_until_inserted() -> None:
    async with sim() as s, central(s.link) as c, c.connect_ftms() as ftms:
        await start(ftms)
        await wait_state(s, lambda st: st.machine.belt_speed > 0)
        begin = len(ftms.events)
        assert (await s.pull_safety_key()).done
        await ftms.wait_event(lambda e: e.uuid16 == 0x2ADA and e.value == b"\x03", start=begin)
        await wait_state(s, lambda st: st.machine.belt_speed == 0)
        assert await ftms.request(b"\x07") == bytes.fromhex("800704")
        assert not (await s.press_start()).done
        assert (await s.insert_safety_key()).done
        assert await ftms.request(b"\x07") == bytes.fromhex("800701")


async def test_walker_presence_gates_the_counters() -> None:
    async with sim() as s, central(s.link) as c, c.connect_ftms() as ftms:
        await start(ftms)
        await ftms.request(bytes.fromhex("02 f4 01"))  # 5.00 km/h
        await wait_state(s, lambda st: st.machine.belt_speed == 500)
        t0 = s.state().machine.now
        await wait_state(s, lambda st: st.machine.now > t0 + 5)
        assert s.state().machine.distance_m == 0
        assert (await s.step_on()).done
        state = await wait_state(s, lambda st: st.machine.distance_m >= 5)
        assert state.machine.elapsed_s >= 3
        assert (await s.step_off()).done
        frozen = s.state().machine.distance_m
        t1 = s.state().machine.now
        await wait_state(s, lambda st: st.machine.now > t1 + 5)
        assert s.state().machine.distance_m == frozen


async def test_take_control_sends_control_permission_lost() -> None:
    async with sim() as s, central(s.link) as c, c.connect_ftms() as ftms:
        await start(ftms)
        begin = len(ftms.events)
        assert (await s.take_control()).done
        await ftms.wait_event(lambda e: e.uuid16 == 0x2ADA and e.value == b"\xff", start=begin)
        assert await ftms.request(bytes.fromhex("02 96 00")) == bytes.fromhex("800205")


async def test_disconnect_now_drops_the_link_and_the_treadmill_advertises_again() -> None:
    async with sim() as s, central(s.link) as c:
        async with c.connect_ftms() as ftms:
            await start(ftms)
            assert (await s.disconnect_now()).done
            await ftms.disconnected.wait()
        await wait_state(s, lambda st: not st.connected and not st.machine.controlled)
        async with c.connect_ftms() as again:
            assert await again.request(b"\x00") == bytes.fromhex("800001")


async def test_drop_next_indication_never_sends_it_but_the_next_procedure_works() -> None:
    async with sim() as s, central(s.link) as c, c.connect_ftms() as ftms:
        begin = len(ftms.events)
        await s.drop_next_indication()
        await ftms.write(b"\x00")  # answered by the write response only
        await wait_state(s, lambda st: not st.procedure_pending)
        assert await ftms.request(b"\x07") == bytes.fromhex("800701")
        assert ftms.received(0x2AD9, start=begin) == [bytes.fromhex("800701")]


async def test_delayed_indication_keeps_the_procedure_pending_until_sent() -> None:
    async with sim() as s, central(s.link) as c, c.connect_ftms() as ftms:
        await s.delay_next_indication(1.0)
        begin = len(ftms.events)
        await ftms.write(b"\x00")
        assert s.state().procedure_pending
        await ftms.wait_event(lambda e: e.uuid16 == 0x2AD9, start=begin)
        await wait_state(s, lambda st: not st.procedure_pending)
        kinds = [e.kind for e in ftms.events[begin:] if e.uuid16 != 0x2ACD]
        assert kinds == ["write_response", "indication"]


async def test_answer_next_with_a_result_code_changes_nothing() -> None:
    async with sim() as s, central(s.link) as c, c.connect_ftms() as ftms:
        await s.answer_next_with(4)
        assert await ftms.request(b"\x00") == bytes.fromhex("800004")
        assert not s.state().machine.controlled
        assert await ftms.request(b"\x00") == bytes.fromhex("800001")


async def test_stop_notifying_stops_treadmill_data_until_resumed() -> None:
    async with sim() as s, central(s.link) as c, c.connect_ftms() as ftms:
        await ftms.next_value(0x2ACD)
        await s.stop_notifying()
        begin = len(ftms.events)
        t0 = s.state().machine.now
        await wait_state(s, lambda st: st.machine.now > t0 + 5)  # five data intervals
        assert ftms.received(0x2ACD, start=begin) == []
        await s.resume_notifying()
        await ftms.next_value(0x2ACD)


async def test_command_dispatch_by_name() -> None:
    async with sim() as s:
        assert await s.command("press_start") == {"action": "start", "done": True, "reason": ""}
        state = await s.command("state")
        assert state["machine"]["phase"] == "starting"
        assert state["connected"] is False


async def test_simulator_exits_with_a_client_connected_right_after_an_indication() -> None:
    stop = asyncio.Event()
    ready: asyncio.Future[Simulator] = asyncio.get_running_loop().create_future()

    async def serve() -> None:
        async with sim() as s:
            ready.set_result(s)
            await stop.wait()

    async with asyncio.TaskGroup() as tasks:
        server = tasks.create_task(serve())
        s = await ready
        async with central(s.link) as c, c.connect_ftms() as ftms:
            assert await ftms.request(b"\x00") == bytes.fromhex("800001")
            stop.set()
            async with asyncio.timeout(10):
                await server  # a swallowed cancellation would hang here
            await ftms.disconnected.wait()


async def test_notify_raw_sends_exactly_the_given_bytes_once() -> None:
    async with sim() as s, central(s.link) as c, c.connect_ftms() as ftms:
        for uuid16, frame in ((0x2ACD, b"\x84\x24"), (0x2ADA, b"\x05"), (0x2AD3, b"")):
            begin = len(ftms.events)
            result = await s.notify_raw(f"{uuid16:04x}", frame.hex())
            assert result.done

            def sent(e: AttEvent, u: int = uuid16, f: bytes = frame) -> bool:
                return e.uuid16 == u and e.value == f

            await ftms.wait_event(sent, start=begin)
        with pytest.raises(ValueError, match="characteristic"):
            await s.notify_raw("2ad9", "00")
