"""Text timeline, terminal chart and SVG chart of a profile's planned speed and incline.

Pure functions returning strings (standard library only). The plotted speed is the profile's
target per segment; ramps take seconds and are not drawn. A rest with the belt stopped is 0;
a rest at the device minimum is drawn at 0 too and marked "min" (the minimum depends on the
treadmill).
"""

from __future__ import annotations

from treadctl.svg import Scale, Svg, mmss
from treadctl.workout.engine import PlannedSegment, Timeline
from treadctl.workout.models import Profile, RestBelt, SegmentKind


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
        f"total {mmss(tl.total_s)} (rests with the belt stopped wait for a person to resume)",
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
            f"{mmss(p.start_s):>6} {mmss(seg.duration):>6}  {label[:28]:<28} "
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
    end = mmss(tl.total_s)
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
    x = Scale(0, tl.total_s, left, left + pw)
    y_speed = Scale(0, vmax, top + ph, top)
    y_incline = Scale(0, imax, top + ph, top)

    speed_pts: list[tuple[float, float]] = []
    incline_pts: list[tuple[float, float]] = []
    for p in tl.segments:
        for t in (p.start_s, p.end_s):
            speed_pts.append((x(t), y_speed(_speed(p))))
            incline_pts.append((x(t), y_incline(p.incline)))
    svg = Svg(width, height)
    svg.text(left, 20, f"{profile.name}: speed and incline", font_size=15)
    for p in tl.segments:
        if p.kind == SegmentKind.REST:
            svg.rect(
                x(p.start_s),
                top,
                x(p.end_s) - x(p.start_s),
                ph,
                title=p.segment.label,
                fill="#eeeeee",
            )
    cap_y = y_speed(profile.cap)
    svg.line(left, top + ph, left + pw, top + ph, stroke="black")
    svg.line(left, top, left, top + ph, stroke="black")
    svg.line(left + pw, top, left + pw, top + ph, stroke="black")
    svg.line(left, cap_y, left + pw, cap_y, stroke="#c00000", stroke_dasharray="6 4")
    svg.text(
        left + pw - 4, cap_y - 4, f"cap {profile.cap_kmh:g} km/h", anchor="end", fill="#c00000"
    )
    svg.polyline(speed_pts, stroke="#1f4e9c", stroke_width=2.5)
    svg.polyline(incline_pts, stroke="#d07000", stroke_width=2, stroke_dasharray="4 3")
    svg.text(left - 8, top + 4, f"{vmax / 100:g}", anchor="end")
    svg.text(left - 8, top + ph + 4, "0", anchor="end")
    svg.text(14, top + ph / 2, "speed km/h", anchor="middle", rotate=-90, fill="#1f4e9c")
    svg.text(left + pw + 8, top + 4, f"{imax / 10:g}")
    svg.text(left + pw + 8, top + ph + 4, "0")
    svg.text(width - 14, top + ph / 2, "incline %", anchor="middle", rotate=90, fill="#d07000")
    step = 60 if tl.total_s <= 20 * 60 else 300
    for t in range(0, tl.total_s + 1, step):
        svg.text(x(t), top + ph + 18, f"{t // 60}", anchor="middle")
    svg.text(left + pw / 2, height - 8, "minutes (grey: rests)", anchor="middle")
    return svg.render()
