"""``to_toml(mapping) -> str``: the small TOML writer the daemon rig writes its configuration
with (scalars, tables, arrays of tables)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(config: Mapping[str, Any]) -> str:
    """A small TOML writer for the config's shape (scalars, tables, arrays of tables)."""
    lines: list[str] = []

    def table(prefix: str, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            if not isinstance(value, Mapping) and not _is_table_list(value) and value is not None:
                lines.append(f"{key} = {_toml_value(value)}")
        for key, value in values.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, Mapping):
                lines.append(f"\n[{name}]")
                table(name, value)
            elif _is_table_list(value):
                for item in value:
                    lines.append(f"\n[[{name}]]")
                    table(name, item)

    table("", config)
    return "\n".join(lines).strip() + "\n"


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)
