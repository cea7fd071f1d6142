"""Deadlines of a complaint's stages, on the Indonesian working calendar.

Three clocks, each "N hari kerja" (working days: Monday to Friday less national holidays and the
deployment's cuti bersama) or "N hari" (calendar days), configurable per deployment (settings
``deadlines`` and ``cuti_bersama``):

    clock     runs in stage(s)                          from                 default
    route     received, returned, reopened              entering the stage   3 hari kerja
    respond   routed, acknowledged                      the routing          5 hari kerja
    settle    in_progress                               the routing          60 hari

Where the defaults come from. docs/lifecycle.md lists the pages read, with their addresses. Only the LAPOR!
figures were read first-hand. No article number below was read in a regulation's own text:

* route, 3 working days. This is SP4N-LAPOR!'s operating procedure, not a regulation's article. The LAPOR!
  FAQ (blog.lapor.go.id, question 3) says a report is verified within 3 working days. The LAPOR! app's store
  description (publisher Kantor Staf Presiden) says it is verified and forwarded to the K/L/D within 3
  working days.
* respond, 5 working days. Same app description: after forwarding, the K/L/D has 5 working days for
  internal coordination and to formulate its follow-up for the reporter. It is also SP4N-LAPOR!'s
  procedure, not an article. It sits inside the limit of UU 25/2009: a written complaint gets an answer
  within 14 days of receipt. A secondary source puts that in Pasal 44 ayat (1); this is unverified. Route
  plus respond come to 8 working days from receipt, which is 10 to 12 calendar days outside long holidays.
* settle, 60 days (calendar). The complaint is settled within 60 days of its file being declared complete.
  That is Perpres 76/2013 as two secondary sources summarise it; the article number is not verified.
  UU 25/2009 has the same rule, usually cited as Pasal 50 ayat (7); that is unverified too. The routing
  stands for "file complete". The texts say "hari", not "hari kerja".

A stage's due moment is the end of its last day, in the deployment's time zone: a complaint received on a
Friday with 3 working days is due at the end of Wednesday (Monday a holiday: Thursday).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from triage.errors import InvalidInputError

CLOCKS: tuple[str, ...] = ("route", "respond", "settle")
DEFAULT_DEADLINES: dict[str, str] = {"route": "3 hari kerja", "respond": "5 hari kerja", "settle": "60 hari"}
DEFAULT_TIMEZONE = "Asia/Makassar"
"""WITA: the default deployment (Kutai Kartanegara, Kalimantan Timur) keeps central Indonesian time."""

_SPAN = re.compile(r"^\s*(\d{1,3})\s+hari(\s+kerja)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """A deadline's length: ``days`` working days (``working``) or calendar days."""

    days: int
    working: bool

    @classmethod
    def parse(cls, text: str, clock: str = "") -> Span:
        """``"3 hari kerja"`` (working days) or ``"60 hari"`` (calendar days)."""
        match = _SPAN.match(str(text))
        if match is None or int(match.group(1)) < 1:
            raise InvalidInputError(f"Deadline '{clock}': expected 'N hari kerja' (working days) or 'N hari' "
                                    f"(calendar days) with N >= 1, got {text!r}. Fix the deadlines setting.")
        return cls(days=int(match.group(1)), working=bool(match.group(2)))

    def __str__(self) -> str:
        return f"{self.days} hari kerja" if self.working else f"{self.days} hari"


@dataclass(frozen=True)
class Calendar:
    """Working days in Indonesia: Monday to Friday, less national holidays (the maintained ``holidays``
    package, country ID) and ``cuti_bersama`` (the joint leave days a deployment lists each year)."""

    cuti_bersama: frozenset[date] = frozenset()
    zone: str = DEFAULT_TIMEZONE

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _national(day.year) and day not in self.cuti_bersama

    def holiday_name(self, day: date) -> str | None:
        """The holiday's name (the package's), "cuti bersama", or ``None`` on a normal day."""
        if day in self.cuti_bersama:
            return "cuti bersama"
        return _national(day.year).get(day)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.zone)).date()

    def last_day(self, start: datetime, span: Span) -> date:
        """The last day of ``span`` counted from ``start`` (the start's own day is not counted)."""
        day = self.local_day(start)
        if not span.working:
            return day + timedelta(days=span.days)
        left = span.days
        while left:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def due(self, start: datetime, span: Span) -> datetime:
        """The moment ``span`` from ``start`` runs out (the end of its last day, local time), in UTC."""
        after = self.last_day(start, span) + timedelta(days=1)
        return datetime.combine(after, time.min, ZoneInfo(self.zone)).astimezone(timezone.utc)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after ``start``'s day up to and including ``end``'s day (0 on the same day)."""
        day, last, n = self.local_day(start), self.local_day(end), 0
        while day < last:
            day += timedelta(days=1)
            n += self.is_working_day(day)
        return n


@lru_cache(maxsize=64)
def _national(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("ID", years=year)


@dataclass(frozen=True)
class Deadlines:
    """The three clocks of a deployment and its calendar."""

    spans: Mapping[str, Span] = field(default_factory=lambda: {c: Span.parse(t, c)
                                                                for c, t in DEFAULT_DEADLINES.items()})
    calendar: Calendar = Calendar()

    @classmethod
    def of(cls, deadlines: Mapping[str, str] | None = None, cuti_bersama: Iterable[date] = (),
           zone: str = DEFAULT_TIMEZONE) -> Deadlines:
        """From the settings: ``deadlines`` overrides some clocks (``{"settle": "30 hari kerja"}``)."""
        given = dict(deadlines or {})
        unknown = sorted(set(given) - set(CLOCKS))
        if unknown:
            raise InvalidInputError(f"Unknown deadline {', '.join(unknown)}: the clocks are {', '.join(CLOCKS)}. "
                                    "Fix the deadlines setting.")
        spans = {c: Span.parse(given.get(c, DEFAULT_DEADLINES[c]), c) for c in CLOCKS}
        return cls(spans=spans, calendar=Calendar(frozenset(cuti_bersama), zone))

    @classmethod
    def from_settings(cls, settings) -> Deadlines:
        return cls.of(settings.deadlines, settings.cuti_bersama, settings.timezone)

    def due(self, clock: str, start: datetime) -> datetime:
        return self.calendar.due(start, self.spans[clock])


def install(sessions, deadlines: Deadlines) -> None:
    """Make sessions of ``sessions`` (a sessionmaker) count with ``deadlines`` (the deployment's, from its
    settings): the app does at its start, ``triage batch --to-queue`` before it stores complaints."""
    sessions.kw["info"] = {**(sessions.kw.get("info") or {}), "deadlines": deadlines}


def of_session(session) -> Deadlines:
    """The deadlines ``session`` counts with: those set on its sessionmaker by :func:`install`, else the defaults
    (national holidays only)."""
    return session.info.get("deadlines") or Deadlines()


STAGE_CLOCK: dict[str, tuple[str, str]] = {
    "received": ("route", "stage"),
    "returned": ("route", "stage"),
    "reopened": ("route", "stage"),
    "routed": ("respond", "routing"),
    "acknowledged": ("respond", "routing"),
    "in_progress": ("settle", "routing"),
}
"""Per open stage, its clock and what the clock runs from: entering the stage, or the last routing."""


def due_for(deadlines: Deadlines, stage: str, stage_at: datetime, routed_at: datetime | None) -> datetime | None:
    """When a complaint that entered ``stage`` at ``stage_at`` (last routed at ``routed_at``) is due; ``None``
    for closed stages (settled, forwarded, archived)."""
    if stage not in STAGE_CLOCK:
        return None
    clock, anchor = STAGE_CLOCK[stage]
    start = routed_at if anchor == "routing" and routed_at is not None else stage_at
    return deadlines.due(clock, start)
