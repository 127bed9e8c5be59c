"""treadctl.log: JSON lines with the bound ids, standard-library records rendered by the same
formatter at the configured levels, and the journal's syslog priority prefix."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from treadctl.log import LIBRARY_LEVELS, configure_logging, get_logger, stream_is_journal


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved_handlers = list(root.handlers)
    saved_level = root.level
    saved_levels = {name: logging.getLogger(name).level for name in LIBRARY_LEVELS}
    yield
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(saved_level)
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(False)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_bound_device_and_session() -> None:
    stream = io.StringIO()  # not a terminal: JSON
    configure_logging("INFO", stream=stream, env={})
    log = get_logger("treadctl.test")
    with structlog.contextvars.bound_contextvars(device="living-room", session="s-42"):
        log.info("speed_set", target_kmh=1.5)
    log.info("unbound")
    first, second = lines(stream)
    assert first["event"] == "speed_set"
    assert first["device"] == "living-room"
    assert first["session"] == "s-42"
    assert first["target_kmh"] == 1.5
    assert first["level"] == "info"
    assert first["logger"] == "treadctl.test"
    assert "timestamp" in first
    assert "device" not in second


def test_standard_library_records_are_rendered_with_context() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream, env={})
    with structlog.contextvars.bound_contextvars(device="pad"):
        logging.getLogger("bleak.backends.bluezdbus.client").warning("adapter %s gone", "hci0")
        logging.getLogger("bumble.hci").info("packet")  # below bumble's WARNING default
        logging.getLogger("bumble.device").warning("link lost")
        logging.getLogger("mqtt").info("publish")  # aiomqtt's logger, WARNING by default
    records = lines(stream)
    assert [(r["logger"], r["event"]) for r in records] == [
        ("bleak.backends.bluezdbus.client", "adapter hci0 gone"),
        ("bumble.device", "link lost"),
    ]
    assert all(r["device"] == "pad" for r in records)


def test_level_filters_our_own_lines() -> None:
    stream = io.StringIO()
    configure_logging("WARNING", stream=stream, env={})
    log = get_logger("treadctl.test")
    log.info("hidden")
    log.debug("hidden too")
    log.warning("shown")
    assert [r["event"] for r in lines(stream)] == ["shown"]


def test_library_levels_can_be_overridden() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream, env={}, loggers={"bumble": "debug", "mqtt": "INFO"})
    import aiomqtt  # noqa: F401, PLC0415 - its import must not reset the requested level

    logging.getLogger("bumble.hci").debug("packet")
    logging.getLogger("mqtt").info("connected")
    assert [r["event"] for r in lines(stream)] == ["packet", "connected"]


def test_exceptions_are_data_without_local_variables() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream, env={})
    password = "hunter2"  # a local that must not reach the log
    try:
        raise ValueError(f"bad {len(password)}")
    except ValueError:
        get_logger("treadctl.test").exception("failed")
    (record,) = lines(stream)
    assert "hunter2" not in stream.getvalue()
    assert isinstance(record["exception"], list)
    assert record["exception"][0]["exc_type"] == "ValueError"


def test_reconfiguring_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", stream=first, env={})
    configure_logging("INFO", stream=second, env={})
    get_logger("treadctl.test").info("once")
    assert first.getvalue() == ""
    assert [r["event"] for r in lines(second)] == ["once"]


def test_console_format_is_not_json() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "console", stream=stream, env={})
    get_logger("treadctl.test").info("walking", device="pad")
    text = stream.getvalue()
    assert "walking" in text
    assert "device=pad" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def journal_env(path: Path) -> dict[str, str]:
    stat = os.stat(path)
    return {"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}"}


def test_journal_lines_have_a_syslog_priority(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    with path.open("w", encoding="utf-8") as stream:
        configure_logging("DEBUG", stream=stream, env=journal_env(path))
        log = get_logger("treadctl.test")
        log.debug("d")
        log.info("i")
        log.warning("w")
        log.error("e")
        log.critical("c")
        logging.getLogger("bleak").warning("from bleak")
        stream.flush()
        configure_logging("INFO", stream=io.StringIO(), env={})  # release the file
    text = path.read_text(encoding="utf-8").splitlines()
    prefixes = [line[: line.index(">") + 1] for line in text]
    assert prefixes == ["<7>", "<6>", "<4>", "<3>", "<2>", "<4>"]
    assert json.loads(text[1][3:])["event"] == "i"


def test_no_prefix_when_journal_stream_names_another_file(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.write_text("", encoding="utf-8")
    path = tmp_path / "out"
    with path.open("w", encoding="utf-8") as stream:
        assert stream_is_journal(stream, journal_env(path))
        assert not stream_is_journal(stream, journal_env(other))
        assert not stream_is_journal(stream, {"JOURNAL_STREAM": "garbage"})
        assert not stream_is_journal(stream, {})
    assert not stream_is_journal(io.StringIO(), journal_env(path))
