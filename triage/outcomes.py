"""What became of the complaints of a period, per OPD: the report a head of office and Ombudsman read.

The cohort is the complaints *received* from ``date_from`` to ``date_to`` (UTC days, inclusive); each
counts for the OPD of its routing in force, and a complaint no handler has routed yet (its OPD only
suggested) in the row :data:`UNROUTED`: the routing delay is the handlers', not an OPD's. Per OPD, and for all
of them (``opd`` ``None``):

    received       complaints of the cohort
    routed         of them, routed at least once (a ``route`` event)
    in_progress    now with the OPD, not settled (routed, acknowledged, in_progress)
    settled / forwarded / archived   now in that stage
    overdue        open and past due in their current stage at ``as_of``
    returned       returned at least once as wrongly routed (salah disposisi); ``returned_rate`` = returned / routed
    hours_to_route     median and 90th percentile of received -> first routing, in hours
    days_to_settle     median and 90th percentile of received -> settlement, in days
    settled_on_time    share of the settled whose settlement came before the settle deadline counted from
                       the routing before it (:mod:`triage.deadlines`)

Percentiles are nearest-rank (the value at rank ceil(p * n)), so every figure is one of the complaints'.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.complaints import day_range, routed_to
from triage.db import Complaint, ComplaintEvent, utcnow
from triage.deadlines import Deadlines
from triage.lifecycle import AT_OPD, CLOSED
from triage.reports import csv_text, decimal_comma

UNROUTED = "belum_didisposisikan"
"""The row of complaints without a routing in force (pending, or archived/forwarded before any routing)."""


@dataclass(frozen=True)
class OutcomeRow:
    """The figures of one OPD (``opd`` ``None``: every OPD) for the period."""

    opd: str | None
    received: int
    routed: int
    in_progress: int
    settled: int
    overdue: int
    forwarded: int
    archived: int
    returned: int
    returned_rate: float | None
    hours_to_route_median: float | None
    hours_to_route_p90: float | None
    days_to_settle_median: float | None
    days_to_settle_p90: float | None
    settled_on_time: float | None


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank ``p`` percentile (0 < p <= 1) of ``values``; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p * len(ordered)), 1) - 1]


def outcomes(session: Session, date_from: date | None = None, date_to: date | None = None, *,
             deadlines: Deadlines | None = None, as_of: datetime | None = None,
             opds: tuple[str, ...] | None = None) -> list[OutcomeRow]:
    """Per OPD (sorted by code), then :data:`UNROUTED`, then the total over them, for complaints received in the range; only
    ``opds`` when given (a focal point's report)."""
    deadlines = deadlines or Deadlines()
    as_of = as_of or utcnow()
    start, end = day_range(date_from, date_to)
    query = select(Complaint.id, Complaint.opd, Complaint.status, Complaint.received_at, Complaint.stage,
                   Complaint.due_at)
    if start is not None:
        query = query.where(Complaint.received_at >= start)
    if end is not None:
        query = query.where(Complaint.received_at < end)
    if opds is not None:
        query = query.where(routed_to(opds))  # what the focal point received, not what was only suggested
    complaints = session.execute(query).all()
    events: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    ids = [c.id for c in complaints]
    for chunk in range(0, len(ids), 500):
        rows = session.execute(select(ComplaintEvent.complaint_id, ComplaintEvent.action, ComplaintEvent.at)
                               .where(ComplaintEvent.complaint_id.in_(ids[chunk:chunk + 500]))
                               .order_by(ComplaintEvent.at, ComplaintEvent.id))
        for complaint_id, action, at in rows:
            events[complaint_id].append((action, at))
    groups: dict[str, list] = defaultdict(list)
    for complaint in complaints:
        groups[complaint.opd if complaint.status == "decided" else UNROUTED].append(complaint)
    order = sorted(g for g in groups if g != UNROUTED) + [UNROUTED] * (UNROUTED in groups)
    rows = [_row(opd, groups[opd], events, deadlines, as_of) for opd in order]
    return rows + [_row(None, complaints, events, deadlines, as_of)]


def _row(opd, complaints, events, deadlines: Deadlines, as_of: datetime) -> OutcomeRow:
    routed = returned = 0
    to_route: list[float] = []
    to_settle: list[float] = []
    on_time = 0
    for c in complaints:
        steps = events.get(c.id, [])
        routings = [at for action, at in steps if action == "route"]
        if routings:
            routed += 1
            to_route.append((routings[0] - c.received_at).total_seconds() / 3600)
        returned += any(action == "return" for action, _ in steps)
        settlements = [at for action, at in steps if action == "settle"]
        if c.stage == "settled" and settlements:
            settled_at = settlements[-1]
            to_settle.append((settled_at - c.received_at).total_seconds() / 86400)
            before = [at for at in routings if at <= settled_at]
            on_time += bool(before) and settled_at < deadlines.due("settle", before[-1])
    stage = defaultdict(int)
    for c in complaints:
        stage[c.stage] += 1
    overdue = sum(1 for c in complaints if c.stage not in CLOSED and c.due_at is not None and as_of >= c.due_at)
    settled = stage["settled"]
    return OutcomeRow(
        opd=opd, received=len(complaints), routed=routed, in_progress=sum(stage[s] for s in AT_OPD),
        settled=settled, overdue=overdue, forwarded=stage["forwarded"], archived=stage["archived"],
        returned=returned, returned_rate=_share(returned, routed),
        hours_to_route_median=_round(percentile(to_route, 0.5)), hours_to_route_p90=_round(percentile(to_route, 0.9)),
        days_to_settle_median=_round(percentile(to_settle, 0.5)),
        days_to_settle_p90=_round(percentile(to_settle, 0.9)), settled_on_time=_share(on_time, settled))


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


CSV_HEADERS: dict[str, str] = {
    "opd": "Kode OPD", "received": "Diterima", "routed": "Didisposisikan", "in_progress": "Dalam proses",
    "settled": "Selesai", "overdue": "Terlambat", "forwarded": "Diteruskan (bukan wewenang)",
    "archived": "Diarsipkan", "returned": "Dikembalikan (salah disposisi)",
    "returned_rate": "Rasio salah disposisi", "hours_to_route_median": "Median jam sampai disposisi",
    "hours_to_route_p90": "Persentil 90 jam sampai disposisi", "days_to_settle_median": "Median hari sampai selesai",
    "days_to_settle_p90": "Persentil 90 hari sampai selesai", "settled_on_time": "Porsi selesai tepat waktu",
}
"""Column headers of the CSV, in Bahasa Indonesia (its readers are heads of office and Ombudsman)."""


def row_names(taxonomy) -> dict[str, str]:
    """What each row of the report is called: the deployment's OPD names, and "Belum didisposisikan" for
    :data:`UNROUTED`."""
    return {**{code: label.name for code, label in taxonomy.labels["opd"].items()}, UNROUTED: "Belum didisposisikan"}


def to_csv(rows: list[OutcomeRow], opd_names: dict[str, str] | None = None) -> str:
    """The report as CSV text the way the statistics CSVs are (:func:`triage.reports.csv_text`: Indonesian
    headers, a UTF-8 byte order mark, semicolons, decimal commas); the total row's OPD reads "Semua OPD"."""
    names = opd_names or {}
    table = []
    for row in rows:
        values = asdict(row)
        code = values.pop("opd")
        table.append([code or "Semua OPD", names.get(code, "") if code else "",
                      *(decimal_comma(v) if isinstance(v, float) else v for v in values.values())])
    return csv_text([CSV_HEADERS["opd"], "Nama OPD", *list(CSV_HEADERS.values())[1:]], table)
