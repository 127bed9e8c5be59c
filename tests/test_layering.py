"""One path to the belt, by construction (docs/architecture.md, docs/safety.md rule 1).

The import contracts in pyproject.toml (``lint-imports``, run by scripts/lint) keep the pure
core free of I/O and the adapters apart. What an import graph cannot say is checked here on the
syntax tree of every module of treadctl: only the governed treadmill
(``treadctl/control/governed.py``) and the BLE adapter that implements the port
(``treadctl/ble``) call the port's commanding methods.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "treadctl"

ALLOWED = ("treadctl/control/governed.py", "treadctl/ble/")
"""The governed treadmill, and the BLE link and supervisor that implement the port."""

PORT_ONLY = frozenset({"request_control", "set_target_speed", "set_target_incline"})
"""Commanding methods that only a port has: any call outside ALLOWED bypasses the governor."""

SHARED_NAMES = frozenset({"start", "stop", "pause"})
"""Commanding methods whose names other objects share (the governed treadmill, the session
runner): a call is a port call when its receiver is a port or a link."""

PORT_WORDS = ("port", "link")


def _receiver_is_a_port(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    receiver = ast.unparse(func.value).lower()
    return any(word in receiver for word in PORT_WORDS)


def commanding_calls(source: str) -> list[tuple[int, str]]:
    """(line, call) of every port command in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        if name in PORT_ONLY or (name in SHARED_NAMES and _receiver_is_a_port(node)):
            found.append((node.lineno, ast.unparse(node.func)))
    return found


def test_the_scan_finds_port_commands() -> None:
    source = (
        "async def f(port, belt, supervisor):\n"
        "    await port.set_target_speed(100)\n"
        "    await supervisor.port.start()\n"
        "    await self._link().stop()\n"
        "    await belt.start()\n"
        "    await runner.pause()\n"
    )
    assert commanding_calls(source) == [
        (2, "port.set_target_speed"),
        (3, "supervisor.port.start"),
        (4, "self._link().stop"),
    ]


def test_the_governed_treadmill_is_seen_calling_the_port() -> None:
    # The scan is not vacuous: the one allowed caller is found.
    governed = (PACKAGE / "control" / "governed.py").read_text(encoding="utf-8")
    names = {call for _line, call in commanding_calls(governed)}
    assert {"port.set_target_speed", "port.start", "port.stop"} <= names


def test_only_the_governed_treadmill_commands_the_port() -> None:
    bypasses: dict[str, list[tuple[int, str]]] = {}
    for path in sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts):
        relative = path.relative_to(REPO).as_posix()
        if not relative.startswith(ALLOWED):
            calls = commanding_calls(path.read_text(encoding="utf-8"))
            if calls:
                bypasses[relative] = calls
    assert not bypasses, f"treadmill port commanded outside the governed treadmill: {bypasses}"


def _test_tree_names() -> set[str]:
    """Top-level names that would reach into tests/ without saying so: its directories and the
    helper modules in them."""
    tests = REPO / "tests"
    names = {d.name for d in tests.iterdir() if d.is_dir() and (d / "__init__.py").exists()}
    for path in tests.rglob("*.py"):
        if not path.name.startswith(("test_", "conftest", "__init__")):
            names.add(path.stem)
    names |= {p.stem for p in (REPO / "harness").glob("*.py") if p.stem != "__init__"}
    return names - {"treadctl", "simulators", "bench"}  # the real packages of the same names


def test_test_helpers_are_imported_one_way() -> None:
    """``from harness.mosquitto import Mosquitto`` (helpers shared with bench/, formerly
    tests/support) and
    ``from tests.mqtt.mqtt_watch import Watcher`` (helpers of one test directory): absolute,
    from the repository root; never relative, never by a bare directory or module name (which
    only worked when pytest happened to put that directory on sys.path)."""
    names = _test_tree_names()
    wrong: dict[str, list[str]] = {}
    for top in ("tests", "bench", "harness"):
        for path in sorted((REPO / top).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom):
                    modules = [("." * node.level) + (node.module or "")]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                for module in modules:
                    if module.startswith((".", "tests.support")) or module.split(".")[0] in names:
                        wrong.setdefault(path.relative_to(REPO).as_posix(), []).append(module)
    assert not wrong, f"import helpers as harness.<module> or tests.<dir>.<module>: {wrong}"
