"""Safety settings: the absolute cap cannot be raised, other limits only tightened, and the
cap in force for a treadmill is never above any limit that applies to it."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from treadctl.config import Config, ConfigError, DeviceConfig, limits
from treadctl.errors import TreadctlError
from treadctl.safety.limits import Limits
from treadctl.units import centi_to_kmh, kmh_to_centi, percent_to_deci

Problems = Callable[..., dict[str, str]]


def device(**overrides: Any) -> dict[str, Any]:
    return {"id": "pad", "address": "AA:BB:CC:DD:EE:FF", "has_handrails": True, **overrides}


def toml_device(**overrides: Any) -> str:
    lines = ["[[devices]]"]
    for key, value in device(**overrides).items():
        rendered = str(value).lower() if isinstance(value, bool) else repr(value)
        lines.append(f"{key} = {rendered}".replace("'", '"'))
    return "\n".join(lines) + "\n"


def test_device_cap_above_the_absolute_cap_is_refused(problems: Problems) -> None:
    found = problems(toml_device(user_cap_kmh=4.5))
    assert found == {"devices.0.user_cap_kmh": "must be ≤ 4.0 (absolute cap) (got 4.5)"}


def test_safety_user_cap_above_the_absolute_cap_is_refused(problems: Problems) -> None:
    found = problems(toml_device() + "[safety]\nuser_cap_kmh = 4.01\n")
    assert found == {"safety.user_cap_kmh": "must be ≤ 4.0 (absolute cap) (got 4.01)"}


def test_user_cap_may_only_be_lowered(problems: Problems) -> None:
    # docs/references.md#retro-defaults: the 3.0 km/h cap is "user-adjustable downwards"; 4.0 is the
    # absolute cap.
    found = problems(toml_device() + "[safety]\nuser_cap_kmh = 3.5\n")
    assert found["safety.user_cap_kmh"].startswith("must be ≤ 3.0 (user cap, may only be lowered")
    assert problems(toml_device(user_cap_kmh=3.01))["devices.0.user_cap_kmh"].startswith(
        "must be ≤ 3.0"
    )


def test_a_device_cap_only_lowers_the_safety_cap(
    problems: Problems, load_toml: Callable[..., Config]
) -> None:
    found = problems(toml_device(user_cap_kmh=2.5) + "[safety]\nuser_cap_kmh = 2.0\n")
    assert "above safety.user_cap_kmh (2.0)" in found["devices.0.user_cap_kmh"]
    config = load_toml(toml_device(user_cap_kmh=1.5) + "[safety]\nuser_cap_kmh = 2.0\n")
    assert config.cap_kmh(config.devices[0]) == 1.5
    assert config.cap_centi(config.devices[0]) == 150


def test_without_handrails_the_cap_is_two(load_toml: Callable[..., Config]) -> None:
    config = load_toml(toml_device(has_handrails=False))
    assert config.cap_kmh(config.devices[0]) == limits.NO_HANDRAILS_CAP_KMH == 2.0
    lowered = load_toml(toml_device(has_handrails=False) + "[safety]\nno_handrails_cap_kmh = 1.5\n")
    assert lowered.cap_centi(lowered.devices[0]) == 150


def test_explicit_cap_above_two_without_handrails_is_refused(problems: Problems) -> None:
    found = problems(toml_device(has_handrails=False, user_cap_kmh=2.5))
    assert "without handrails" in found["devices.0.user_cap_kmh"]


def test_has_handrails_is_required(problems: Problems) -> None:
    text = '[[devices]]\nid = "pad"\nname = "WP8"\n'
    assert problems(text) == {"devices.0.has_handrails": "required"}


@pytest.mark.parametrize(
    ("key", "looser", "stricter"),
    [
        ("user_cap_kmh", 3.1, 2.0),
        ("no_handrails_cap_kmh", 2.5, 1.5),
        ("acceleration_kmh_per_s", 0.2, 0.05),
        ("stale_telemetry_s", 5.0, 2.0),
        ("max_incline_percent", 12.0, 5.0),
        ("incline_ramp_percent_per_min", 1.5, 0.5),
    ],
)
def test_safety_settings_may_only_be_tightened(
    problems: Problems,
    load_toml: Callable[..., Config],
    key: str,
    looser: float,
    stricter: float,
) -> None:
    found = problems(toml_device() + f"[safety]\n{key} = {looser}\n")
    assert list(found) == [f"safety.{key}"]
    assert "must be" in found[f"safety.{key}"]
    config = load_toml(toml_device() + f"[safety]\n{key} = {stricter}\n")
    assert getattr(config.safety, key) == stricter


def test_stale_telemetry_has_a_floor(problems: Problems) -> None:
    found = problems(toml_device() + "[safety]\nstale_telemetry_s = 0.5\n")
    assert found["safety.stale_telemetry_s"].startswith("must be ≥ 1.5")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused(problems: Problems, value: str) -> None:
    # NaN passes every `<=` check: it must be refused, not compared.
    found = problems(toml_device() + f"[safety]\nuser_cap_kmh = {value}\n")
    assert list(found) == ["safety.user_cap_kmh"]


@pytest.mark.parametrize("value", [0, -1.0, 0.005])
def test_caps_must_be_at_least_the_finest_step(problems: Problems, value: float) -> None:
    assert list(problems(toml_device(user_cap_kmh=value))) == ["devices.0.user_cap_kmh"]


def test_acceleration_below_the_finest_step_is_refused(problems: Problems) -> None:
    # 0.005 km/h/s would round to 0 in wire units; refusing beats silently using 0.01.
    found = problems(toml_device() + "[safety]\nacceleration_kmh_per_s = 0.005\n")
    assert found["safety.acceleration_kmh_per_s"].startswith("must be ≥ 0.01")


def test_cap_in_centi_rounds_down(load_toml: Callable[..., Config]) -> None:
    config = load_toml(toml_device(user_cap_kmh=2.999))
    assert config.cap_centi(config.devices[0]) == 299


@pytest.mark.parametrize("bad_id", ["Pad", "pad/1", "pad+", "#", "", "-pad", "a" * 49, "pad 1"])
def test_device_ids_must_be_topic_safe(problems: Problems, bad_id: str) -> None:
    assert list(problems(toml_device(id=bad_id))) == ["devices.0.id"]


def test_duplicate_ids_and_addresses_are_refused(problems: Problems) -> None:
    text = toml_device() + toml_device(address="aa:bb:cc:dd:ee:ff")
    found = problems(text)
    assert set(found) == {"devices.1.id", "devices.1.address"}


def test_bumble_backend_needs_a_transport(
    problems: Problems, load_toml: Callable[..., Config]
) -> None:
    assert set(problems(toml_device() + '[ble]\nbackend = "bumble"\n')) == {"devices.0.transport"}
    # Per-device transports: two simulator processes served by one daemon.
    config = load_toml(
        toml_device(id="a", transport="tcp-client:127.0.0.1:9001", simulator=True)
        + toml_device(
            id="b",
            address="11:22:33:44:55:66",
            transport="unix:/run/sim-b.sock",
            simulator=True,
        )
        + '[ble]\nbackend = "bumble"\n'
    )
    assert [config.transport_for(d) for d in config.devices] == [
        "tcp-client:127.0.0.1:9001",
        "unix:/run/sim-b.sock",
    ]
    assert {config.backend_for(d) for d in config.devices} == {"bumble"}


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)


@given(
    device_cap=st.one_of(st.none(), finite_or_not),
    safety_cap=finite_or_not,
    no_rails_cap=finite_or_not,
    has_handrails=st.booleans(),
)
def test_cap_in_force_never_exceeds_any_limit(
    device_cap: float | None, safety_cap: float, no_rails_cap: float, has_handrails: bool
) -> None:
    data = {
        "devices": [device(has_handrails=has_handrails, user_cap_kmh=device_cap)],
        "safety": {"user_cap_kmh": safety_cap, "no_handrails_cap_kmh": no_rails_cap},
    }
    try:
        config = Config.model_validate(data)
    except ValidationError:
        return
    (pad,) = config.devices
    cap = config.cap_kmh(pad)
    assert math.isfinite(cap)
    assert 0 < cap <= limits.DEFAULT_USER_CAP_KMH < limits.ABSOLUTE_CAP_KMH
    assert cap <= safety_cap
    assert 1 <= config.cap_centi(pad) <= 300
    if device_cap is not None:
        assert cap <= device_cap
    if not has_handrails:
        assert cap <= min(no_rails_cap, limits.NO_HANDRAILS_CAP_KMH)


def within(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high)


@given(
    user_cap=within(0.01, limits.DEFAULT_USER_CAP_KMH),
    no_rails_cap=within(0.01, limits.NO_HANDRAILS_CAP_KMH),
    acceleration=within(0.01, limits.ACCELERATION_LIMIT_KMH_PER_S),
    incline=within(0, limits.INCLINE_CAP_PERCENT),
    incline_ramp=within(0.1, limits.INCLINE_RAMP_PERCENT_PER_MIN),
    stale=within(limits.STALE_TELEMETRY_FLOOR_S, limits.STALE_TELEMETRY_S),
    has_handrails=st.booleans(),
)
def test_whatever_the_config_accepts_the_governor_accepts(
    *,
    user_cap: float,
    no_rails_cap: float,
    acceleration: float,
    incline: float,
    incline_ramp: float,
    stale: float,
    has_handrails: bool,
) -> None:
    """Every value inside the documented ranges is accepted, and a configuration that passes
    `config check` never fails later in the safety module (``Limits`` refuses looser values)."""
    config = Config.model_validate(
        {
            "devices": [device(has_handrails=has_handrails)],
            "safety": {
                "user_cap_kmh": user_cap,
                "no_handrails_cap_kmh": no_rails_cap,
                "acceleration_kmh_per_s": acceleration,
                "max_incline_percent": incline,
                "incline_ramp_percent_per_min": incline_ramp,
                "stale_telemetry_s": stale,
            },
        }
    )
    safety = config.safety
    governed = Limits(
        user_speed_cap=config.cap_centi(config.devices[0]),
        handrails=has_handrails,
        acceleration_centi_per_s=kmh_to_centi(safety.acceleration_kmh_per_s),
        incline_cap=percent_to_deci(safety.max_incline_percent),
        incline_ramp_deci_per_min=percent_to_deci(safety.incline_ramp_percent_per_min),
        stale_telemetry_s=safety.stale_telemetry_s,
    )
    assert centi_to_kmh(governed.speed_cap) <= config.cap_kmh(config.devices[0])


def test_model_validate_uses_neither_files_nor_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TREADCTL_SAFETY__USER_CAP_KMH", "1.0")
    config = Config.model_validate({"devices": [device()]})
    assert config.safety.user_cap_kmh == 3.0
    assert isinstance(config.devices[0], DeviceConfig)


def test_config_error_is_a_treadctl_error() -> None:
    assert issubclass(ConfigError, TreadctlError)
