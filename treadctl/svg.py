"""The one SVG writer: a standalone document built element by element (standard library only).

Used by the profile chart (treadctl.workout.plot) and the history charts
(treadctl.history.charts). Every text is XML-escaped, characters that XML 1.0 cannot carry
are replaced, numbers are written with one decimal; no external resources (fonts, images).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

# Characters outside the XML 1.0 "Char" production (XML 1.0, section 2.2).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text_of(value: str) -> str:
    """Escaped character data for an element or attribute."""
    return escape(_NOT_XML.sub("\ufffd", value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _attrs(attrs: dict[str, str | float | None]) -> str:
    out = []
    for key, value in attrs.items():
        if value is None:
            continue
        shown = _num(value) if isinstance(value, float | int) else text_of(value)
        out.append(f' {key.rstrip("_").replace("_", "-")}="{shown}"')
    return "".join(out)


def mmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:d}:{s % 60:02d}"


@dataclass(frozen=True, slots=True)
class Scale:
    """A linear map from data values [lo, hi] to picture coordinates [start, end]."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo
        if span == 0:
            return self.start
        return self.start + (self.end - self.start) * (value - self.lo) / span


@dataclass
class Svg:
    """An SVG document; elements are appended in drawing order (later ones on top)."""

    width: int
    height: int
    font_size: int = 12
    parts: list[str] = field(default_factory=list)

    def element(self, tag: str, content: str | None = None, /, **attrs: str | float | None) -> None:
        if content is None:
            self.parts.append(f"<{tag}{_attrs(attrs)}/>")
        else:
            self.parts.append(f"<{tag}{_attrs(attrs)}>{content}</{tag}>")

    def rect(
        self, x: float, y: float, w: float, h: float, *, title: str | None = None, **attrs: str
    ) -> None:
        tip = f"<title>{text_of(title)}</title>" if title else None
        self.element("rect", tip, x=x, y=y, width=max(0.0, w), height=max(0.0, h), **attrs)

    def line(self, x1: float, y1: float, x2: float, y2: float, **attrs: str | float) -> None:
        self.element("line", x1=x1, y1=y1, x2=x2, y2=y2, **attrs)

    def polyline(self, points: Iterable[tuple[float, float]], **attrs: str | float) -> None:
        pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        if pts:
            self.element("polyline", points=pts, fill="none", **attrs)

    def circle(self, x: float, y: float, r: float, **attrs: str | float) -> None:
        self.element("circle", cx=x, cy=y, r=r, **attrs)

    def text(
        self,
        x: float,
        y: float,
        value: str,
        *,
        anchor: str | None = None,
        rotate: float | None = None,
        halo: bool = False,
        **attrs: str | float,
    ) -> None:
        """A label; ``halo`` draws it first outlined in white (a copy underneath, as not every
        renderer supports ``paint-order``), to keep it readable over bars and lines."""
        transform = f"rotate({_num(rotate)} {_num(x)} {_num(y)})" if rotate is not None else None
        if halo:
            self.element(
                "text",
                text_of(value),
                x=x,
                y=y,
                text_anchor=anchor,
                transform=transform,
                **{**attrs, "stroke": "white", "stroke_width": 3, "aria_hidden": "true"},
            )
        self.element(
            "text", text_of(value), x=x, y=y, text_anchor=anchor, transform=transform, **attrs
        )

    def render(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" '
            f'font-family="sans-serif" font-size="{self.font_size}">'
        )
        body: Sequence[str] = [
            head,
            f'<rect width="{self.width}" height="{self.height}" fill="white"/>',
            *self.parts,
            "</svg>",
        ]
        return "\n".join(body) + "\n"
