"""Numbers in the configuration are numbers (issue 12, defect 4): a TOML boolean or string in a
number field is refused with its key, never read as 1 or 0. The environment, where every value
is text, still gives numbers as text (``TREADCTL_SAFETY__USER_CAP_KMH=2.5``)."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from treadctl.config import Config

LoadToml = Callable[..., Config]
Problems = Callable[..., dict[str, str]]

DEVICE = '[[devices]]\nid = "pad"\naddress = "AA:BB:CC:DD:EE:FF"\nhas_handrails = true\n'


@pytest.mark.parametrize("value", ["true", "false", '"2.0"'])
def test_safety_cap_must_be_a_number(problems: Problems, value: str) -> None:
    found = problems(DEVICE + f"[safety]\nuser_cap_kmh = {value}\n")
    assert "number" in found["safety.user_cap_kmh"]


@pytest.mark.parametrize("value", ["true", '"2"'])
def test_device_cap_must_be_a_number(problems: Problems, value: str) -> None:
    found = problems(DEVICE + f"user_cap_kmh = {value}\n")
    assert "number" in found["devices.0.user_cap_kmh"]


def test_mqtt_port_must_be_a_number(problems: Problems) -> None:
    found = problems(DEVICE + "[mqtt]\nport = true\n")
    assert "number" in found["mqtt.port"]


def test_whole_numbers_and_environment_text_are_numbers(load_toml: LoadToml) -> None:
    config = load_toml(DEVICE + "[safety]\nuser_cap_kmh = 2\n")
    assert config.safety.user_cap_kmh == 2.0
    config = load_toml(DEVICE, {"TREADCTL_SAFETY__USER_CAP_KMH": "2.5"})
    assert config.safety.user_cap_kmh == 2.5


def test_environment_text_that_is_no_number_is_refused(problems: Problems) -> None:
    found = problems(DEVICE, {"TREADCTL_SAFETY__USER_CAP_KMH": "yes"})
    assert "safety.user_cap_kmh" in found


def _options(annotation: Any) -> Iterator[Any]:
    """The plain types an annotation allows (unions split, Annotated unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _options(typing.get_args(annotation)[0])
    elif origin is typing.Union or isinstance(annotation, types.UnionType):
        for option in typing.get_args(annotation):
            yield from _options(option)
    else:
        yield annotation


def _number_fields(
    model: type[BaseModel], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """Every int or float field of ``model`` and of the section models it holds."""
    for name, field in model.model_fields.items():
        for option in _options(field.annotation):
            if option in (int, float):
                yield (*prefix, name)
            elif isinstance(option, type) and issubclass(option, BaseModel):
                yield from _number_fields(option, (*prefix, name))
            elif typing.get_origin(option) is list:
                (item,) = typing.get_args(option)
                if isinstance(item, type) and issubclass(item, BaseModel):
                    yield from _number_fields(item, (*prefix, name, "0"))


NUMBER_FIELDS = sorted(_number_fields(Config))


def test_the_walk_finds_the_number_fields() -> None:
    assert ("safety", "user_cap_kmh") in NUMBER_FIELDS
    assert ("mqtt", "port") in NUMBER_FIELDS
    assert ("devices", "0", "user_cap_kmh") in NUMBER_FIELDS
    assert len(NUMBER_FIELDS) >= 15


LIST_ITEMS: dict[str, dict[str, Any]] = {
    "devices": {"id": "pad", "address": "AA:BB:CC:DD:EE:FF", "has_handrails": True},
    "people": {"id": "ann", "name": "Ann"},
}
"""A valid item of each list section (a new list section needs one here)."""


@pytest.mark.parametrize("path", NUMBER_FIELDS, ids=".".join)
def test_every_number_setting_refuses_a_boolean(path: tuple[str, ...]) -> None:
    data: dict[str, Any] = {"devices": [dict(LIST_ITEMS["devices"])]}
    node: Any = data
    for key in path[:-1]:
        if key.isdigit():
            node = node[int(key)]
        elif key in LIST_ITEMS:
            node = node.setdefault(key, [dict(LIST_ITEMS[key])])
        else:
            node = node.setdefault(key, {})
    node[path[-1]] = True
    with pytest.raises(ValidationError) as info:
        Config.model_validate(data)
    assert any(tuple(map(str, error["loc"])) == path for error in info.value.errors())
