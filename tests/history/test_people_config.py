"""``[[people]]`` and ``[history]`` in the configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from treadctl.config.model import Config

DEVICE = {"id": "tm", "address": "AA:BB:CC:DD:EE:FF", "has_handrails": True}


def config(**extra: Any) -> Config:
    return Config.model_validate({"devices": [DEVICE], **extra})


def test_default_person_and_url(tmp_path: Path) -> None:
    one = config(people=[{"id": "ann", "name": "Ann"}], state_dir=str(tmp_path))
    person = one.person(None)
    assert person is not None
    assert (person.id, person.program) == ("ann", "retro-6-weeks")
    assert one.history_url() == f"sqlite:///{tmp_path}/history.sqlite3"
    two = config(people=[{"id": "ann", "name": "Ann"}, {"id": "bob", "name": "B", "default": True}])
    assert two.person(None).id == "bob"  # type: ignore[union-attr]
    assert config(people=[{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]).person(None) is None
    with pytest.raises(KeyError):
        two.person("carl")
    pg = config(history={"url": "postgresql://u:secret@db/h"})
    assert pg.history_url() == "postgresql://u:secret@db/h"
    assert "secret" not in repr(pg.history)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"people": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]}, "duplicate id"),
        (
            {
                "people": [
                    {"id": "a", "name": "A", "default": True},
                    {"id": "b", "name": "B", "default": True},
                ]
            },
            "only one person may be the default",
        ),
        ({"people": [{"id": "a", "name": "A", "age": True}]}, "whole number"),
        ({"people": [{"id": "a", "name": "A", "hr_max_bpm": 171.5}]}, "whole number"),
        ({"people": [{"id": "A B", "name": "A"}]}, "topic-safe id"),
        ({"history": {"url": "mysql://x/y"}}, "postgresql://"),
        ({"history": {"queue_size": 1}}, "greater than or equal to 10"),
    ],
)
def test_refused(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        config(**extra)
