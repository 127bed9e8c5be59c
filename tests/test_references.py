"""The docs stand alone: every citation of docs/references.md names a section that exists, and
nothing cites the notes outside the repository that the references were collected from."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCES = REPO / "docs" / "references.md"
CITED = re.compile(r"references\.md#([a-z0-9-]+)")
OUTSIDE = re.compile(
    r"\.\./shared|shared/reference|shared/captures|"
    r"(?<![\w/-])(?:retro-walking|ftms|design|journey|mqtt-ha-systemd)\.md"
)
SOURCES = ("treadctl", "simulators", "tests", "bench", "docs", "profiles", "scripts", "systemd")
SUFFIXES = {".py", ".md", ".yaml", ".toml", ".service", ""}


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to -."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors() -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", REFERENCES.read_text(encoding="utf-8"), re.M)
    return {_slug(h) for h in headings}


def _files() -> list[Path]:
    found = [REPO / "README.md"]
    for top in SOURCES:
        for path in sorted((REPO / top).rglob("*")):
            if (
                path.is_file()
                and path.suffix in SUFFIXES
                and "__pycache__" not in path.parts
                and "results" not in path.parts
            ):
                found.append(path)
    return [path for path in found if path != Path(__file__).resolve()]


def test_slug_follows_github() -> None:
    assert _slug("FTMS v1.0") == "ftms-v10"
    assert _slug("Journey: heart rate") == "journey-heart-rate"


def test_every_cited_section_exists() -> None:
    anchors = _anchors()
    cited: dict[str, set[str]] = {}
    for path in _files():
        for anchor in CITED.findall(path.read_text(encoding="utf-8", errors="replace")):
            cited.setdefault(anchor, set()).add(str(path.relative_to(REPO)))
    assert cited, "nothing cites docs/references.md"
    missing = {anchor: sorted(files) for anchor, files in cited.items() if anchor not in anchors}
    assert not missing, f"cited sections missing from docs/references.md: {missing}"


def test_nothing_cites_outside_the_repository() -> None:
    hits: dict[str, list[str]] = {}
    for path in _files():
        text = path.read_text(encoding="utf-8", errors="replace")
        found = [
            m.group(0)
            for m in OUTSIDE.finditer(text)
            if not (REPO / "docs" / m.group(0)).is_file()  # a page of the repo's own docs/
        ]
        if found:
            hits[str(path.relative_to(REPO))] = found
    assert not hits, f"cite docs/references.md instead of: {hits}"
