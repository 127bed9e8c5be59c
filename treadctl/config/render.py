"""The effective configuration as TOML or JSON text, with secrets masked (``config show``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from treadctl.config.model import Config

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


def masked(config: Config) -> dict[str, Any]:
    """The configuration as JSON-compatible data; secrets become ``**********``, unset keys
    are left out (TOML has no null)."""
    data: dict[str, Any] = config.model_dump(mode="json", exclude_none=True)
    return data


def to_json(config: Config) -> str:
    return json.dumps(masked(config), indent=2, ensure_ascii=False) + "\n"


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _table(lines: list[str], path: list[str], table: Mapping[str, Any]) -> None:
    scalars = {
        k: v for k, v in table.items() if not isinstance(v, Mapping) and not _is_table_array(v)
    }
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in table.items():
        if key in scalars:
            continue
        name = ".".join(_key(part) for part in [*path, key])
        if isinstance(value, Mapping):
            lines.extend(["", f"[{name}]"])
            _table(lines, [*path, key], value)
        else:
            for item in value:
                lines.extend(["", f"[[{name}]]"])
                _table(lines, [*path, key], item)


def to_toml(config: Config) -> str:
    """TOML that ``load_config`` reads back to the same configuration (secrets masked)."""
    lines = [
        "# treadctl configuration in force (file + environment + credentials + defaults).",
        "# Secrets are masked as **********: do not copy them back.",
        "",
    ]
    _table(lines, [], masked(config))
    return "\n".join(lines) + "\n"
