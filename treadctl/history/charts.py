"""Charts of the history, as standalone SVG (and PNG when CairoSVG is installed).

- ``session_chart``: one session's speed and incline over time, its segments shaded
  (backward blocks blue and labelled, rests grey), how it ended.
- ``progress_chart``: one person's weeks: minutes walking backward per week (bars) and the
  program stage at the end of each week (line).

Pure functions from records to text, drawn with the one SVG writer (treadctl.svg).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from treadctl.errors import TreadctlError
from treadctl.history.export.segments import (
    Segment,
    elapsed_s,
    end_reason_text,
    laps,
    valid_hr,
)
from treadctl.history.records import Sample, SessionRecord
from treadctl.svg import Scale, Svg, mmss

SPEED = "#1f4e9c"
INCLINE = "#d07000"
BACKWARD_FILL = "#d6e4f5"
REST_FILL = "#eeeeee"
ALERT = "#c00000"
GRID = "#e4e4e4"
MUTED = "#555555"
_CHAR_PX = 6.2  # rough width of one 11 px sans-serif character, to fit labels in their band


class PngUnavailableError(TreadctlError):
    """PNG needs CairoSVG (pip extra ``png``) and the cairo library (Debian: libcairo2)."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause
        super().__init__(
            "PNG output needs CairoSVG and the cairo library "
            "(pip install 'treadctl[png]'; Debian: apt-get install libcairo2): "
            f"{type(cause).__name__}: {cause}"
        )


def to_png(svg: str, scale: float = 2.0) -> bytes:
    """The SVG rendered to PNG by CairoSVG (``scale`` 2 for sharp text on phones)."""
    try:
        import cairosvg  # noqa: PLC0415  (optional, heavy: only when a PNG is asked for)
    except (ImportError, OSError) as exc:
        raise PngUnavailableError(exc) from exc
    png: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale)
    return png


def _fit(label: str, px: float) -> str:
    room = int(px / _CHAR_PX)
    if room <= 1:
        return ""
    return label if len(label) <= room else label[: room - 1] + "…"


def _nice_top(value: float, step: float) -> float:
    return max(step, math.ceil(value / step - 1e-9) * step)


def _when(at: datetime) -> str:
    return at.strftime("%a %-d %b %Y, %H:%M UTC")


def _subtitle(record: SessionRecord, samples: Sequence[Sample]) -> str:
    parts = [f"{mmss(elapsed_s(record, samples))} in all"]
    parts.append(f"{mmss(record.backward_s)} walking backward")
    if record.distance_m is not None:
        parts.append(f"{record.distance_m:.0f} m")
    if record.avg_speed_kmh is not None:
        parts.append(f"average {record.avg_speed_kmh:.1f} km/h")
    if (hr := valid_hr(record.avg_hr_bpm)) is not None:
        parts.append(f"heart rate {hr} bpm on average")
    if record.program:
        stage = f" stage {record.stage}" if record.stage is not None else ""
        parts.append(f"{record.program}{stage}")
    return ", ".join(parts) + f": {end_reason_text(record)}"


def _speed_runs(
    samples: Sequence[Sample], value: str, x: Scale, y: Scale
) -> list[list[tuple[float, float]]]:
    """Polylines through the measured values, broken where a value was not measured."""
    runs: list[list[tuple[float, float]]] = [[]]
    for s in samples:
        v = getattr(s, value)
        if v is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((x(s.t_s), y(v)))
    return [r for r in runs if r]


def _bands(
    svg: Svg, segs: Sequence[Segment], *, x: Scale, top: float, ph: float, t0: datetime
) -> None:
    for seg in segs:
        x0 = x((seg.start_at - t0) / timedelta(seconds=1))
        x1 = x((seg.end_at - t0) / timedelta(seconds=1))
        if seg.backward:
            svg.rect(x0, top, x1 - x0, ph, title=seg.title, fill=BACKWARD_FILL)
            svg.text(
                x0 + 4,
                top + 14,
                _fit("◀ backward", x1 - x0 - 6),
                fill=SPEED,
                font_weight="bold",
                font_size=11,
            )
            svg.text(x0 + 4, top + 28, _fit(seg.label, x1 - x0 - 6), fill=SPEED, font_size=11)
        elif not seg.moving:
            svg.rect(x0, top, x1 - x0, ph, title=seg.title, fill=REST_FILL)
            svg.text(
                x0 + 4, top + 14, _fit(seg.label or "rest", x1 - x0 - 6), fill=MUTED, font_size=11
            )
        else:
            svg.text(
                x0 + 4,
                top + 14,
                _fit(seg.label or seg.direction, x1 - x0 - 6),
                fill=MUTED,
                font_size=11,
            )
        svg.line(x0, top, x0, top + ph, stroke="#b0b0b0", stroke_width=0.6)


def session_chart(
    record: SessionRecord, samples: Sequence[Sample], width: int = 860, height: int = 420
) -> str:
    """Speed (left axis) and incline (right axis) over the session, segments shaded."""
    left, right, top, bottom = 64, 64, 70, 70
    pw, ph = width - left - right, height - top - bottom
    segs = laps(record, samples)
    total = max(elapsed_s(record, samples), samples[-1].t_s + 1 if samples else 0.0, 60.0)
    speeds = [s.speed_kmh for s in samples if s.speed_kmh is not None]
    inclines = [s.incline_pct for s in samples if s.incline_pct is not None]
    vtop = _nice_top(max([*speeds, record.max_speed_kmh or 0.0, 1.0]), 0.5)
    itop = _nice_top(max([*inclines, 5.0]), 5.0)
    x = Scale(0, total, left, left + pw)
    y_speed = Scale(0, vtop, top + ph, top)
    y_incline = Scale(0, itop, top + ph, top)

    svg = Svg(width, height)
    svg.text(
        left, 24, f"{record.profile}, {_when(record.started_at)}", font_size=16, font_weight="bold"
    )
    svg.text(left, 44, _subtitle(record, samples), fill=MUTED)
    _bands(svg, segs, x=x, top=top, ph=ph, t0=record.started_at)
    v = 0.5
    while v < vtop + 1e-9:
        svg.line(left, y_speed(v), left + pw, y_speed(v), stroke=GRID)
        svg.text(left - 8, y_speed(v) + 4, f"{v:g}", anchor="end", fill=SPEED)
        v += 0.5
    for i in (0.0, itop / 2, itop):
        svg.text(left + pw + 8, y_incline(i) + 4, f"{i:g}", fill=INCLINE)
    svg.text(left - 8, top + ph + 4, "0", anchor="end", fill=SPEED)
    svg.line(left, top + ph, left + pw, top + ph, stroke="black")
    svg.line(left, top, left, top + ph, stroke="black")
    svg.line(left + pw, top, left + pw, top + ph, stroke="black")
    for run in _speed_runs(samples, "incline_pct", x, y_incline):
        svg.polyline(run, stroke=INCLINE, stroke_width=2, stroke_dasharray="5 3")
    for run in _speed_runs(samples, "speed_kmh", x, y_speed):
        svg.polyline(run, stroke=SPEED, stroke_width=2.5, stroke_linejoin="round")
    if record.end_reason in ("aborted", "interrupted") or record.ended_at is None:
        x_end = x(elapsed_s(record, samples))
        svg.line(x_end, top, x_end, top + ph, stroke=ALERT, stroke_width=2)
        svg.text(x_end - 4, top + ph - 8, end_reason_text(record), anchor="end", fill=ALERT)
    svg.text(16, top + ph / 2, "speed km/h", anchor="middle", rotate=-90, fill=SPEED)
    svg.text(width - 16, top + ph / 2, "incline %", anchor="middle", rotate=90, fill=INCLINE)
    step = 60 if total <= 20 * 60 else 300
    for t in range(0, int(total) + 1, step):
        svg.line(x(t), top + ph, x(t), top + ph + 4, stroke="black")
        svg.text(x(t), top + ph + 18, f"{t // 60}", anchor="middle")
    svg.text(left + pw / 2, top + ph + 34, "minutes", anchor="middle", fill=MUTED)
    _session_legend(svg, left, height - 14)
    return svg.render()


def _session_legend(svg: Svg, x: float, y: float) -> None:
    svg.line(x, y - 4, x + 24, y - 4, stroke=SPEED, stroke_width=2.5)
    svg.text(x + 30, y, "speed")
    svg.line(x + 90, y - 4, x + 114, y - 4, stroke=INCLINE, stroke_width=2, stroke_dasharray="5 3")
    svg.text(x + 120, y, "incline")
    svg.rect(x + 185, y - 11, 18, 12, fill=BACKWARD_FILL)
    svg.text(x + 209, y, "walking backward")
    svg.rect(x + 335, y - 11, 18, 12, fill=REST_FILL)
    svg.text(x + 359, y, "rest")


def _monday(at: datetime) -> date:
    day = at.date()
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True, slots=True)
class Week:
    monday: date
    backward_min: float
    sessions: int
    safety_aborts: int
    stage: int | None  # the stage of the week's last session (carried over a week off)


def weekly(
    sessions: Sequence[SessionRecord], stage_changes: Sequence[tuple[datetime, int]] = ()
) -> list[Week]:
    """Every week from the first session's to the last session's or stage change's (weeks off
    included). The stage at a week's end is the latest of the stage its sessions ran at and
    the stage changes (``(when, new stage)``, e.g. an advance decided after a rating)."""
    if not sessions:
        return []
    ordered = sorted(sessions, key=lambda r: r.started_at)
    events = sorted(
        [(r.started_at, r.stage) for r in ordered if r.stage is not None] + list(stage_changes)
    )
    last = max([_monday(ordered[-1].started_at), *(_monday(at) for at, _ in stage_changes)])
    weeks: list[Week] = []
    stage: int | None = None
    week = _monday(ordered[0].started_at)
    i = j = 0
    while week <= last:
        minutes, count, aborts = 0.0, 0, 0
        while i < len(ordered) and _monday(ordered[i].started_at) == week:
            minutes += ordered[i].backward_s / 60
            count += 1
            aborts += ordered[i].safety_abort
            i += 1
        while j < len(events) and _monday(events[j][0]) <= week:
            stage = events[j][1]
            j += 1
        weeks.append(Week(week, minutes, count, aborts, stage))
        week += timedelta(days=7)
    return weeks


def progress_chart(
    person: str,
    sessions: Sequence[SessionRecord],
    stage_changes: Sequence[tuple[datetime, int]] = (),
    width: int = 860,
    height: int = 400,
) -> str:
    """Minutes walking backward per week (bars) and the program stage (line), over the weeks
    (``stage_changes``: ``(when, new stage)`` pairs, see :func:`weekly`)."""
    left, right, top, bottom = 64, 64, 70, 76
    pw, ph = width - left - right, height - top - bottom
    svg = Svg(width, height)
    svg.text(
        left, 24, f"{person}: walking backward, week by week", font_size=16, font_weight="bold"
    )
    weeks = weekly(sessions, stage_changes)
    if not weeks:
        svg.text(width / 2, height / 2, "no sessions recorded yet", anchor="middle", fill=MUTED)
        return svg.render()
    total = sum(w.backward_min for w in weeks)
    svg.text(
        left,
        44,
        f"{len(sessions)} sessions over {len(weeks)} weeks, "
        f"{total:.0f} minutes walking backward in all",
        fill=MUTED,
    )
    mtop = _nice_top(max(w.backward_min for w in weeks), 10.0)
    stop = max([*(w.stage for w in weeks if w.stage is not None), 1])
    y_min = Scale(0, mtop, top + ph, top)
    y_stage = Scale(0.5, stop + 0.5, top + ph, top)
    slot = pw / len(weeks)
    for m in range(0, int(mtop) + 1, 10 if mtop <= 60 else 20):
        svg.line(left, y_min(m), left + pw, y_min(m), stroke=GRID)
        svg.text(left - 8, y_min(m) + 4, f"{m}", anchor="end", fill=SPEED)
    label_every = max(1, math.ceil(len(weeks) / 13))
    for n, w in enumerate(weeks):
        cx = left + slot * (n + 0.5)
        bw = min(48.0, slot * 0.6)
        bar_top, bar_h = y_min(w.backward_min), y_min(0) - y_min(w.backward_min)
        svg.rect(
            cx - bw / 2,
            bar_top,
            bw,
            bar_h,
            fill=SPEED,
            fill_opacity="0.75",
            title=f"week of {w.monday:%-d %b %Y}: {w.backward_min:.0f} min walking backward, "
            f"{w.sessions} sessions",
        )
        if bar_h >= 20:
            svg.text(
                cx,
                y_min(0) - 7,
                f"{w.backward_min:.0f}",
                anchor="middle",
                fill="white",
                font_size=11,
                font_weight="bold",
            )
        if n % label_every == 0:
            svg.text(cx, top + ph + 18, f"{w.monday:%-d %b}", anchor="middle")
            svg.text(
                cx,
                top + ph + 32,
                f"{w.sessions} sessions" if w.sessions != 1 else "1 session",
                anchor="middle",
                fill=MUTED,
                font_size=11,
            )
        if w.safety_aborts:
            svg.text(
                cx,
                bar_top - 6,
                f"{w.safety_aborts} safety stop",
                anchor="middle",
                fill=ALERT,
                font_size=11,
                halo=True,
            )
    points = [
        (left + slot * (n + 0.5), y_stage(w.stage))
        for n, w in enumerate(weeks)
        if w.stage is not None
    ]
    step_pts: list[tuple[float, float]] = []
    for px, py in points:
        if step_pts:
            step_pts.append((px - slot / 2, step_pts[-1][1]))
            step_pts.append((px - slot / 2, py))
        step_pts.append((px, py))
    svg.polyline(step_pts, stroke=INCLINE, stroke_width=2.5)
    previous: int | None = None
    for px, py in points:
        svg.circle(px, py, 4, fill=INCLINE)
    for n, w in enumerate(weeks):
        if w.stage is not None and w.stage != previous:
            px = left + slot * (n + 0.5)
            svg.text(
                px + 8,
                y_stage(w.stage) - 8,
                f"stage {w.stage}",
                fill=INCLINE,
                font_size=11,
                font_weight="bold",
                halo=True,
            )
        previous = w.stage
    for s in range(1, stop + 1):
        svg.text(left + pw + 8, y_stage(s) + 4, f"{s}", fill=INCLINE)
    svg.line(left, top + ph, left + pw, top + ph, stroke="black")
    svg.line(left, top, left, top + ph, stroke="black")
    svg.line(left + pw, top, left + pw, top + ph, stroke="black")
    svg.text(16, top + ph / 2, "minutes backward", anchor="middle", rotate=-90, fill=SPEED)
    svg.text(width - 16, top + ph / 2, "program stage", anchor="middle", rotate=90, fill=INCLINE)
    svg.text(
        left + pw / 2,
        top + ph + 50,
        "week starting (sessions that week)",
        anchor="middle",
        fill=MUTED,
    )
    y = height - 10
    svg.rect(left, y - 11, 18, 12, fill=SPEED, fill_opacity="0.75")
    svg.text(left + 24, y, "minutes walking backward")
    svg.line(left + 200, y - 4, left + 224, y - 4, stroke=INCLINE, stroke_width=2.5)
    svg.text(left + 230, y, "program stage at the end of the week")
    return svg.render()
