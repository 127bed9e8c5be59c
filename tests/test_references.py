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


FTMS_SECTION = re.compile(r"§\s?([34](?:\.\d+)*)")
OTHER_SPEC = re.compile(r"Core|Vol|Part|HRS|BAS|Heart Rate Service|Battery Service|MQTT")
"""Words that, just before a §, name another specification (Bluetooth Core, HRS, BAS, MQTT)."""


def _ftms_sections() -> tuple[set[str], set[str]]:
    """The FTMS v1.0 sections docs/references.md lists, and those whose subsections may be
    cited (the procedures §4.16.2.1-22 are listed one by one: no others exist)."""
    text = REFERENCES.read_text(encoding="utf-8")
    start = text.index("## FTMS v1.0")
    end = text.index("\n## ", start + 1)
    known = set(re.findall(r"§(\d+(?:\.\d+)*)", text[start:end]))
    known |= {f"4.16.2.{n}" for n in range(1, 23)}
    deeper = {s for s in known if s.count(".") >= 2 and not s.startswith("4.16.2")}
    return known, deeper


def test_ftms_section_numbers_match_the_references() -> None:
    """Every FTMS § cited in the repository is one docs/references.md lists (FTMS v1.0
    numbering), so that the same rule is never cited under two numbers."""
    known, deeper = _ftms_sections()
    assert {"4.4", "4.11", "4.12", "4.16.2.3", "4.17", "4.19"} <= known
    wrong: dict[str, list[str]] = {}
    for path in _files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in FTMS_SECTION.finditer(text):
            if OTHER_SPEC.search(text[max(0, match.start() - 40) : match.start()]):
                continue
            section = match.group(1).rstrip(".")
            if section in known or any(section.startswith(s + ".") for s in deeper):
                continue
            wrong.setdefault(str(path.relative_to(REPO)), []).append(f"§{section}")
    assert not wrong, f"FTMS sections not in docs/references.md (FTMS v1.0): {wrong}"
