"""Text timeline, terminal chart and SVG chart of a profile's planned speed and incline.

Pure functions returning strings (standard library only). The plotted speed is the profile's
target per segment; ramps take seconds and are not drawn. A rest with the belt stopped is 0;
a rest at the device minimum is drawn at 0 too and marked "min" (the minimum depends on the
treadmill).
"""

from __future__ import annotations

from html import escape

from treadctl.workout.engine import PlannedSegment, Timeline
from treadctl.workout.models import Profile, RestBelt, SegmentKind


def _mmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:d}:{s % 60:02d}"


def _speed(planned: PlannedSegment) -> int:
    return planned.speed or 0


def _what(planned: PlannedSegment) -> str:
    seg = planned.segment
    if seg.kind == SegmentKind.REST:
        return (
            "rest, belt stopped" if seg.rest_belt == RestBelt.STOPPED else "rest, belt at minimum"
        )
    facing = planned.facing.value if planned.facing else ""
    return f"{seg.kind.value}, facing {facing}"


def timeline_text(profile: Profile) -> str:
    """One line per segment: start, duration, what, speed, incline, cue."""
    tl = Timeline(profile)
    lines = [
        f"{profile.name}: {profile.description}",
        f"audience: {profile.audience} (level {profile.level.value}, cap {profile.cap_kmh:g} km/h, "
        f"handrails {'needed' if profile.needs_handrails else 'not needed'}"
        + (", supervised)" if profile.supervised else ")"),
        f"total {_mmss(tl.total_s)} (rests with the belt stopped wait for a person to resume)",
        "",
        f"{'start':>6} {'length':>6}  {'segment':<28} {'km/h':>5} {'incl %':>6}  cue",
    ]
    for p in tl.segments:
        seg = p.segment
        speed = "-" if seg.speed_kmh is None else f"{seg.speed_kmh:.2f}"
        if seg.kind == SegmentKind.REST and seg.rest_belt == RestBelt.MINIMUM:
            speed = "min"
        incline = "-" if seg.kind == SegmentKind.REST else f"{seg.incline_percent:.1f}"
        label = f"{seg.label} ({_what(p)})"
        lines.append(
            f"{_mmss(p.start_s):>6} {_mmss(seg.duration):>6}  {label[:28]:<28} "
            f"{speed:>5} {incline:>6}  {seg.cue}"
        )
    return "\n".join(lines) + "\n"


def _sample(tl: Timeline, columns: int) -> list[PlannedSegment]:
    out: list[PlannedSegment] = []
    for c in range(columns):
        t = (c + 0.5) * tl.total_s / columns
        pos = tl.at(t)
        out.append(pos.planned if pos is not None else tl.segments[-1])
    return out


def terminal_chart(profile: Profile, width: int = 72, speed_rows: int = 10) -> str:
    """Speed (top) and incline (bottom) over time as block characters."""
    tl = Timeline(profile)
    width = max(20, width)
    cols = _sample(tl, width)
    top = max(profile.cap, *(_speed(p) for p in cols), 1)
    lines = ["speed km/h"]
    for r in range(speed_rows, 0, -1):
        level = top * r / speed_rows
        label = f"{level / 100:4.1f} |" if r in (speed_rows, speed_rows // 2) else "     |"
        row = "".join("█" if _speed(p) >= level - 1e-9 else " " for p in cols)
        if abs(level - profile.cap) < top / speed_rows / 2:
            row = "".join(ch if ch != " " else "-" for ch in row)
            label = f"{profile.cap / 100:4.1f}c|"
        lines.append(label + row)
    inclines = [p.incline for p in cols]
    incline_top = max(*inclines, 1)
    if max(inclines) > 0:
        lines.append("incline %")
        for r in range(4, 0, -1):
            level = incline_top * r / 4
            label = f"{level / 10:4.1f} |" if r == 4 else "     |"
            lines.append(label + "".join("▓" if i >= level - 1e-9 else " " for i in inclines))
    lines.append("     +" + "-" * width)
    marks = [" "] * width
    for p in tl.segments:
        c = min(width - 1, int(p.start_s * width / tl.total_s))
        marks[c] = (
            "R" if p.kind == SegmentKind.REST else ("B" if p.kind == SegmentKind.BACKWARD else "|")
        )
    lines.append("      " + "".join(marks))
    end = _mmss(tl.total_s)
    lines.append("      0:00" + " " * max(1, width - 4 - len(end)) + end)
    lines.append("      B backward block, R rest, | warm-up/cool-down; c = profile cap")
    return "\n".join(lines) + "\n"


def svg_chart(profile: Profile, width: int = 800, height: int = 360) -> str:
    """A standalone SVG of speed and incline over time (no external resources)."""
    tl = Timeline(profile)
    left, right, top, bottom = 60, 60, 40, 50
    pw, ph = width - left - right, height - top - bottom
    vmax = max(profile.cap, *(_speed(p) for p in tl.segments), 1)
    imax = max(*(p.incline for p in tl.segments), 10)

    def x(t: float) -> float:
        return left + pw * t / tl.total_s

    def y_speed(v: float) -> float:
        return top + ph * (1 - v / vmax)

    def y_incline(i: float) -> float:
        return top + ph * (1 - i / imax)

    speed_pts: list[str] = []
    incline_pts: list[str] = []
    for p in tl.segments:
        for t in (p.start_s, p.end_s):
            speed_pts.append(f"{x(t):.1f},{y_speed(_speed(p)):.1f}")
            incline_pts.append(f"{x(t):.1f},{y_incline(p.incline):.1f}")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="20" font-size="15">{escape(profile.name)}: speed and incline</text>',
    ]
    for p in tl.segments:
        if p.kind == SegmentKind.REST:
            parts.append(
                f'<rect x="{x(p.start_s):.1f}" y="{top}" width="{x(p.end_s) - x(p.start_s):.1f}" '
                f'height="{ph}" fill="#eeeeee"><title>{escape(p.segment.label)}</title></rect>'
            )
    parts += [
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>',
        f'<line x1="{left + pw}" y1="{top}" x2="{left + pw}" y2="{top + ph}" stroke="black"/>',
        f'<line x1="{left}" y1="{y_speed(profile.cap):.1f}" x2="{left + pw}" '
        f'y2="{y_speed(profile.cap):.1f}" stroke="#c00000" stroke-dasharray="6 4"/>',
        f'<text x="{left + pw - 4}" y="{y_speed(profile.cap) - 4:.1f}" text-anchor="end" '
        f'fill="#c00000">cap {profile.cap_kmh:g} km/h</text>',
        f'<polyline points="{" ".join(speed_pts)}" fill="none" stroke="#1f4e9c" '
        'stroke-width="2.5"/>',
        f'<polyline points="{" ".join(incline_pts)}" fill="none" stroke="#d07000" '
        f'stroke-width="2" stroke-dasharray="4 3"/>',
        f'<text x="{left - 8}" y="{top + 4}" text-anchor="end">{vmax / 100:g}</text>',
        f'<text x="{left - 8}" y="{top + ph + 4}" text-anchor="end">0</text>',
        f'<text x="14" y="{top + ph / 2}" transform="rotate(-90 14 {top + ph / 2})" '
        f'text-anchor="middle" fill="#1f4e9c">speed km/h</text>',
        f'<text x="{left + pw + 8}" y="{top + 4}">{imax / 10:g}</text>',
        f'<text x="{left + pw + 8}" y="{top + ph + 4}">0</text>',
        f'<text x="{width - 14}" y="{top + ph / 2}" transform="rotate(90 {width - 14} '
        f'{top + ph / 2})" text-anchor="middle" fill="#d07000">incline %</text>',
    ]
    step = 60 if tl.total_s <= 20 * 60 else 300
    for t in range(0, tl.total_s + 1, step):
        parts.append(
            f'<text x="{x(t):.1f}" y="{top + ph + 18}" text-anchor="middle">{t // 60}</text>'
        )
    parts.append(
        f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">minutes '
        "(grey: rests)</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
