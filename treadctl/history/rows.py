"""Rows of the history tables to records and back (pure mapping, for the store)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from treadctl.history.records import Difficulty, Rating, Sample, SessionRecord


def session_row(record: SessionRecord) -> dict[str, Any]:
    rating = record.rating
    return {
        "id": record.id,
        "person_id": record.person_id,
        "treadmill_id": record.treadmill_id,
        "profile": record.profile,
        "program": record.program,
        "stage": record.stage,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "end_reason": record.end_reason,
        "abort_reason": record.abort_reason,
        "active_s": record.active_s,
        "backward_s": record.backward_s,
        "distance_m": record.distance_m,
        "avg_speed_kmh": record.avg_speed_kmh,
        "max_speed_kmh": record.max_speed_kmh,
        "avg_incline_pct": record.avg_incline_pct,
        "max_incline_pct": record.max_incline_pct,
        "steps": record.steps,
        "avg_hr_bpm": record.avg_hr_bpm,
        "max_hr_bpm": record.max_hr_bpm,
        "rating_pain": rating.pain if rating else None,
        "rating_difficulty": rating.difficulty.value if rating else None,
        "rating_near_fall": rating.near_fall if rating else None,
        "rated_at": rating.rated_at if rating else None,
    }


def record_of(row: RowMapping) -> SessionRecord:
    rating = None
    if row["rated_at"] is not None:
        rating = Rating(
            pain=int(row["rating_pain"]),
            difficulty=Difficulty(row["rating_difficulty"]),
            near_fall=bool(row["rating_near_fall"]),
            rated_at=row["rated_at"],
        )
    return SessionRecord(
        id=row["id"],
        person_id=row["person_id"],
        treadmill_id=row["treadmill_id"],
        profile=row["profile"],
        program=row["program"],
        stage=row["stage"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        end_reason=row["end_reason"],
        abort_reason=row["abort_reason"],
        active_s=row["active_s"],
        backward_s=row["backward_s"],
        distance_m=row["distance_m"],
        avg_speed_kmh=row["avg_speed_kmh"],
        max_speed_kmh=row["max_speed_kmh"],
        avg_incline_pct=row["avg_incline_pct"],
        max_incline_pct=row["max_incline_pct"],
        steps=row["steps"],
        avg_hr_bpm=row["avg_hr_bpm"],
        max_hr_bpm=row["max_hr_bpm"],
        rating=rating,
    )


def sample_row(sample: Sample) -> dict[str, Any]:
    return {
        "t_s": sample.t_s,
        "at": sample.at,
        "speed_kmh": sample.speed_kmh,
        "incline_pct": sample.incline_pct,
        "distance_m": sample.distance_m,
        "segment_index": sample.segment_index,
        "segment_label": sample.segment_label,
        "direction": sample.direction,
        "heart_rate_bpm": sample.heart_rate_bpm,
    }


def sample_of(row: RowMapping) -> Sample:
    return Sample(
        t_s=row["t_s"],
        at=row["at"],
        speed_kmh=row["speed_kmh"],
        incline_pct=row["incline_pct"],
        distance_m=row["distance_m"],
        segment_index=row["segment_index"],
        segment_label=row["segment_label"],
        direction=row["direction"],
        heart_rate_bpm=row["heart_rate_bpm"],
    )
