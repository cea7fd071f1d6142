"""Figures for reports over time: complaints received per period, OPD and category, and how often the
handlers kept each head's suggestion per period (the web page's statistics and its CSV downloads).

The database groups by UTC day (``date()`` exists in SQLite and PostgreSQL alike); days are folded into
weeks (starting Monday) or months here, so no dialect-specific date arithmetic is needed. The codes are
those of the routing in force, as in :func:`triage.decisions.stats`.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from triage.complaints import day_range
from triage.db import Complaint, Decision
from triage.errors import InvalidInputError
from triage.taxonomy import HEADS

Period = Literal["day", "week", "month"]
PERIODS: tuple[str, ...] = ("day", "week", "month")


@dataclass(frozen=True)
class VolumeRow:
    """How many complaints of one OPD and category were received in the period starting ``period``."""

    period: date
    opd: str
    category: str
    complaints: int


@dataclass(frozen=True)
class AcceptanceRow:
    """Decisions made in the period starting ``period`` and, per head, how many kept the suggested code."""

    period: date
    decisions: int
    kept: dict[str, int]

    def rate(self, head: str) -> float | None:
        """Share of the period's decisions that kept ``head``'s suggestion; ``None`` without decisions."""
        return self.kept[head] / self.decisions if self.decisions else None


def period_start(day: date, period: Period) -> date:
    """The first day of the ``period`` holding ``day``: the day, its week's Monday or its month's 1st."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise InvalidInputError(f"Periode '{period}' tidak dikenal. Pilih salah satu: {', '.join(PERIODS)}.")


def volume(session: Session, date_from: date | None = None, date_to: date | None = None, *,
           period: Period = "week", opd: str | None = None, category: str | None = None) -> list[VolumeRow]:
    """Complaints received from ``date_from`` to ``date_to`` (UTC days, inclusive) per period, OPD and
    category, oldest period first; only OPD ``opd`` and category ``category`` when given."""
    period_start(date.min, period)  # reject an unknown period before querying
    day = func.date(Complaint.received_at)
    query = select(day, Complaint.opd, Complaint.category, func.count()).group_by(day, Complaint.opd,
                                                                                 Complaint.category)
    query = routed(_within(query, Complaint.received_at, date_from, date_to), opd, category)
    counts: dict[tuple[date, str, str], int] = defaultdict(int)
    for value, opd_code, category_code, n in session.execute(query):
        counts[(period_start(_as_date(value), period), opd_code, category_code)] += n
    return [VolumeRow(period=p, opd=o, category=c, complaints=n) for (p, o, c), n in sorted(counts.items())]


def acceptance(session: Session, date_from: date | None = None, date_to: date | None = None, *,
               period: Period = "week", opd: str | None = None, category: str | None = None
               ) -> list[AcceptanceRow]:
    """Per period (by when the decision was made), the decisions and per head how many kept the
    suggestion, oldest period first. Every revision counts, as in :func:`triage.decisions.stats`. With
    ``opd`` or ``category``, only the decisions on complaints routed there now (the routing in force)."""
    period_start(date.min, period)
    day = func.date(Decision.decided_at)
    kept_sums = [func.coalesce(func.sum(cast(getattr(Decision, f"{h}_kept"), Integer)), 0) for h in HEADS]
    query = select(day, func.count(), *kept_sums).group_by(day)
    query = _within(query, Decision.decided_at, date_from, date_to)
    if opd is not None or category is not None:
        query = routed(query.join(Complaint, Complaint.id == Decision.complaint_id), opd, category)
    decisions: dict[date, int] = defaultdict(int)
    kept: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(HEADS, 0))
    for value, n, *sums in session.execute(query):
        start = period_start(_as_date(value), period)
        decisions[start] += n
        for head, k in zip(HEADS, sums):
            kept[start][head] += int(k)
    return [AcceptanceRow(period=p, decisions=decisions[p], kept=dict(kept[p])) for p in sorted(decisions)]


def periods_between(first: date, last: date, period: Period) -> list[date]:
    """Every period start from the one holding ``first`` to the one holding ``last``: a chart's axis, with
    the empty periods too."""
    day_range(first, last)  # dates outside the served years are refused before any looping
    starts, current, end = [], period_start(first, period), period_start(last, period)
    while current <= end:
        starts.append(current)
        if period == "day":
            current += timedelta(days=1)
        elif period == "week":
            current += timedelta(days=7)
        else:
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


def routed(query, opd: str | None, category: str | None):
    """``query`` kept to complaints whose routing in force is OPD ``opd`` and category ``category`` (each when
    given); the query must select from, or join, ``complaints``."""
    if opd is not None:
        query = query.where(Complaint.opd == opd)
    if category is not None:
        query = query.where(Complaint.category == category)
    return query


def _within(query, column, date_from: date | None, date_to: date | None):
    start, end = day_range(date_from, date_to)
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    return query


def _as_date(value: date | datetime | str) -> date:
    """SQLite's ``date()`` gives text, PostgreSQL's a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def csv_text(header: list[str], rows: list[list]) -> str:
    """A CSV file as a spreadsheet set to Indonesian reads it: a UTF-8 byte order mark (else Excel guesses
    another encoding), fields separated by semicolons, since the decimal separator is the comma (write
    decimals with :func:`decimal_comma`)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()


def decimal_comma(value: float | None, places: int = 4) -> str:
    """``0.8731`` -> ``"0,8731"`` (``places`` places, decimal comma); empty without a value."""
    return "" if value is None else f"{value:.{places}f}".replace(".", ",")
