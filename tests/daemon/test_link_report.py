"""When failed connection attempts are logged (treadctl.daemon.link_report): pure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from treadctl.daemon.link_report import FailureLine, FailureLog


def test_first_then_after_a_doubling_interval() -> None:
    log = FailureLog(first_repeat_s=10.0, max_repeat_s=40.0)
    logged = {t: log.failed(float(t), "down") for t in range(200)}
    due = [t for t, line in logged.items() if line is not None]
    assert due == [0, 10, 30, 70, 110, 150, 190]  # +10, +20, +40, then capped at 40
    assert logged[0] == FailureLine(attempts=1, unlogged=0)
    assert logged[10] == FailureLine(attempts=11, unlogged=9)
    assert logged[30] == FailureLine(attempts=31, unlogged=19)


def test_a_new_reason_is_logged_at_once_and_restarts_the_interval() -> None:
    log = FailureLog(first_repeat_s=10.0)
    assert log.failed(0.0, "a") is not None
    assert log.failed(1.0, "a") is None
    assert log.failed(2.0, "b") == FailureLine(attempts=3, unlogged=1)
    assert log.failed(3.0, "b") is None
    assert log.failed(12.0, "b") is not None


def test_recovery_forgets_everything() -> None:
    log = FailureLog()
    log.failed(0.0, "a")
    log.failed(1.0, "a")
    assert log.recovered() == 2
    assert log.failed(2.0, "a") == FailureLine(attempts=1, unlogged=0)


@given(st.lists(st.tuples(st.floats(0, 5), st.sampled_from("ab")), max_size=200))
def test_no_failure_is_lost_from_the_counts(steps: list[tuple[float, str]]) -> None:
    log = FailureLog()
    now = 0.0
    lines: list[FailureLine] = []
    for gap, message in steps:
        now += gap
        line = log.failed(now, message)
        if line is not None:
            lines.append(line)
    if steps:
        assert lines
        assert lines[0] == FailureLine(attempts=1, unlogged=0)
        # every failure is either logged or counted as unlogged on a later line (or pending)
        assert len(lines) + sum(line.unlogged for line in lines) <= len(steps)
        assert lines[-1].attempts == len(lines) + sum(line.unlogged for line in lines)
