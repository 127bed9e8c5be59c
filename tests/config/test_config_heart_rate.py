"""Heart-rate settings: the source per treadmill, the limits per person (docs/heart-rate.md)."""

from __future__ import annotations

from collections.abc import Callable

from treadctl.config import Config

LoadToml = Callable[..., Config]
Problems = Callable[..., dict[str, str]]

DEVICE = """
[[devices]]
id = "tm"
address = "AA:BB:CC:DD:EE:FF"
has_handrails = true
"""


def test_strap_source_and_person_limits(load_toml: LoadToml) -> None:
    config = load_toml(
        DEVICE
        + """
[devices.heart_rate]
name = "Polar H10 1234"

[[people]]
id = "ann"
name = "Ann"
age = 70
hr_soft_fraction = 0.6
"""
    )
    source = config.devices[0].heart_rate
    assert source is not None
    assert (source.source, source.name, source.address) == ("strap", "Polar H10 1234", None)
    person = config.person("ann")
    assert person is not None
    limits = person.heart_rate_limits()
    assert limits is not None
    assert (limits.hr_max, limits.estimated, limits.soft_bpm, limits.hard_bpm) == (
        150,
        True,
        90,
        120,
    )


def test_no_source_no_limits(load_toml: LoadToml) -> None:
    config = load_toml(DEVICE + '[[people]]\nid = "bob"\nname = "Bob"\n')
    assert config.devices[0].heart_rate is None
    person = config.person("bob")
    assert person is not None
    assert person.heart_rate_limits() is None


def test_fractions_may_be_lowered_never_raised_past_the_rules(problems: Problems) -> None:
    found = problems(
        DEVICE + '[[people]]\nid = "c"\nname = "C"\nhr_max_bpm = 150\nhr_hard_fraction = 0.99\n'
    )
    assert list(found) == ["people.0.hr_hard_fraction"]
    found = problems(
        DEVICE
        + '[[people]]\nid = "c"\nname = "C"\nage = 60\n'
        + "hr_soft_fraction = 0.85\nhr_hard_fraction = 0.8\n"
    )
    assert "below hard_fraction" in " ".join(found.values())


def test_treadmill_source_takes_no_address(problems: Problems) -> None:
    found = problems(DEVICE + '[devices.heart_rate]\nsource = "treadmill"\nname = "x"\n')
    assert "source = 'strap'" in " ".join(found.values())
