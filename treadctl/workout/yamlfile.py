"""Loading a pydantic model from a YAML file, with file, line and field in every problem.

One loader for the YAML model files: profiles (:mod:`treadctl.workout.loader`) and progression
programs (:mod:`treadctl.history.program`). Pipeline: YAML syntax (PyYAML, line from its mark)
-> the top level must be a mapping -> duplicate keys -> the pydantic model (types, unknown keys,
shapes). All problems found at one stage are reported together, raised as the caller's typed
error. Pure apart from reading the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from treadctl.workout.check import FieldPath, Problem

M = TypeVar("M", bound=BaseModel)

Refusal = Callable[[Sequence[Problem], str], Exception]
"""The caller's typed error, built from the problems and the file (ProfileError, ProgramError)."""

LineMap = dict[FieldPath, int]
"""The 1-based line of every key and list item, by field path."""


def read_yaml_text(path: Path, refuse: Refusal) -> str:
    """The file's text; an unreadable file is refused as one problem naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise refuse([Problem((), f"cannot read: {exc}", str(path))], str(path)) from exc


def load_yaml_model(
    text: str, model: type[M], *, file: str, kind: str, refuse: Refusal, unknown_key: str
) -> tuple[M, LineMap]:
    """Validate YAML ``text`` as ``model``; the model and the line of every field.

    ``kind`` names the file in the problem when the top level is not a mapping ("a profile");
    ``unknown_key`` is the reason given for a key the model does not have.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise refuse([Problem((), reason, file, line)], file) from exc
    if not isinstance(node, yaml.MappingNode):
        line = node.start_mark.line + 1 if node is not None else None
        raise refuse([Problem((), f"{kind} is a YAML mapping of keys", file, line)], file)
    lines: LineMap = {}
    duplicates: list[Problem] = []
    _walk(node, (), lines, duplicates, file)
    if duplicates:
        raise refuse(duplicates, file)
    data: Any = yaml.safe_load(text)
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        problems = [_pydantic_problem(err, lines, file, unknown_key) for err in exc.errors()]
        raise refuse(problems, file) from exc


def line_map(text: str) -> LineMap:
    """The line of every field of YAML ``text`` (raises yaml.YAMLError on bad YAML)."""
    lines: LineMap = {}
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is not None:
        _walk(node, (), lines, [], "")
    return lines


def with_line(problem: Problem, lines: LineMap) -> Problem:
    """``problem`` with the line of its field, or of the nearest enclosing field that has one."""
    path = problem.field
    while path and path not in lines:
        path = path[:-1]
    return Problem(problem.field, problem.reason, problem.file, lines.get(path))


def _walk(
    node: yaml.Node,
    path: FieldPath,
    lines: LineMap,
    duplicates: list[Problem],
    file: str,
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                duplicates.append(Problem((*path, key), "duplicate key", file, line))
            seen.add(key)
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, duplicates, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, duplicates, file)


_TAGS = {"float", "int", "str", "bool", "list", "dict", "none", "constrained-float"}


def _pydantic_problem(err: Any, lines: LineMap, file: str, unknown_key: str) -> Problem:
    loc: FieldPath = tuple(err.get("loc", ()))
    # Drop pydantic's schema tags (union members, validators) from the location.
    field = tuple(p for p in loc if isinstance(p, int) or (p not in _TAGS and "[" not in p))
    reason = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        reason = unknown_key
    elif err.get("type") == "missing":
        reason = "required key is missing"
    if (
        "input" in err
        and err.get("type") not in ("missing",)
        and not isinstance(err["input"], dict | list)
    ):
        reason += f" (got {err['input']!r})"
    return with_line(Problem(field, reason, file), lines)
