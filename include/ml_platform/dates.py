"""Partition dates: every step is keyed by one calendar date, given as a date, datetime or ISO string."""

from __future__ import annotations

from datetime import date, datetime


def as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
