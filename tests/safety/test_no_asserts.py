"""Invariants of the safety core are explicit checks with typed errors (issue 12, defect 5):
``python -O`` removes ``assert`` statements, so none may guard the governor, the governed
treadmill, the session runner or the FTMS control session."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORE = [
    *sorted((REPO / "treadctl" / "safety").glob("*.py")),
    *sorted((REPO / "treadctl" / "control").glob("*.py")),
    REPO / "treadctl" / "ftms" / "control_session.py",
    REPO / "treadctl" / "observations.py",
]


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.relative_to(REPO).as_posix())
def test_no_assert_statements(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert lines == [], f"{path.name}: assert on lines {lines}"


def test_the_scan_finds_an_assert() -> None:
    tree = ast.parse("def f(x):\n    assert x is not None\n")
    assert any(isinstance(node, ast.Assert) for node in ast.walk(tree))
