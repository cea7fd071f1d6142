"""Handlers' decisions: record one, read a complaint's history, count how often suggestions are kept.

A decision is never updated: a second one on the same complaint is a new revision. Revision numbers come
from one atomic ``UPDATE complaints SET revisions = revisions + 1 ... RETURNING``, which locks the
complaint's row until commit (PostgreSQL) or runs under the database's write lock (SQLite), so two
handlers deciding at once get revisions n and n+1; the unique constraint (complaint_id, revision) guards
it besides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, cast, func, select, update
from sqlalchemy.orm import Session

from triage.complaints import MAX_ID, check_storable, complaint_not_found, day_range
from triage.db import STATUSES, Complaint, Decision, utcnow
from triage.errors import ConflictError
from triage.lifecycle import record_event
from triage.metrics import count_decision
from triage.reports import routed
from triage.taxonomy import HEADS, Taxonomy


@dataclass(frozen=True)
class Decider:
    """Who decides: the API key's name (and id, when the decision comes through the API)."""

    name: str
    key_id: int | None = None


def record_decision(session: Session, taxonomy: Taxonomy, complaint_id: int, *, category: str, opd: str,
                    maladministration: str, decider: Decider, note: str | None = None,
                    expected_revision: int | None = None, batch_id: int | None = None,
                    remember: Callable[[Session, Decision], None] | None = None) -> Decision:
    """Store a handler's routing of complaint ``complaint_id`` as its next revision and commit.

    :class:`UnknownCodeError` for a code the deployment lacks, :class:`NotFoundError` for an unknown
    complaint. With ``expected_revision`` (the revision count the handler saw), :class:`ConflictError`
    if someone decided the complaint since, checked in the same ``UPDATE`` (see :func:`stale_message`).
    ``batch_id``: the bulk confirmation the decision belongs to (:mod:`triage.bulk`). ``remember`` is called
    with the flushed decision before the commit, to store what belongs with it in the same transaction (an
    idempotency key, :mod:`triage.idempotency`).
    """
    codes = {"category": category, "opd": opd, "maladministration": maladministration}
    for head in HEADS:  # an old code (a category code before the national layer) is stored as what it reads as
        codes[head] = taxonomy.check(head, codes[head])
    bump = (update(Complaint).where(Complaint.id == complaint_id)
            .values(revisions=Complaint.revisions + 1, status="decided", **codes)
            .returning(Complaint.revisions, Complaint.suggested_category, Complaint.suggested_opd,
                       Complaint.suggested_maladministration))
    if expected_revision is not None:
        bump = bump.where(Complaint.revisions == expected_revision)
    if not 0 < complaint_id <= MAX_ID:
        raise complaint_not_found(complaint_id)
    if note is not None:
        check_storable(note, "Catatan")
    try:
        row = session.execute(bump).one_or_none()
        if row is None and expected_revision is not None and session.get(Complaint, complaint_id) is not None:
            raise ConflictError(stale_message(session, complaint_id, expected_revision))
        if row is None:
            raise complaint_not_found(complaint_id)
        revision, *suggested = row
        kept = {f"{h}_kept": codes[h] == s for h, s in zip(HEADS, suggested)}
        decision = Decision(complaint_id=complaint_id, revision=revision, **codes, **kept, note=note,
                            decided_by=decider.name, api_key_id=decider.key_id, decided_at=utcnow(),
                            batch_id=batch_id)
        session.add(decision)
        # The routing is the disposition to the OPD: the lifecycle records it in this transaction (409 if the
        # complaint is settled, forwarded or archived: it must be reopened first).
        label = taxonomy.labels["opd"].get(codes["opd"])
        if label is not None and label.outside:  # bukan wewenang: the routing is a forwarding, and it closes
            record_event(session, complaint_id, "forward", by=decider, note=note, commit=False,
                         data={"revision": revision, "destination": label.forward_text or label.name,
                               "opd": label.code})
        else:
            record_event(session, complaint_id, "route", by=decider, note=note, data={"revision": revision},
                         commit=False)
        if remember is not None:
            session.flush()
            remember(session, decision)
        session.commit()
        count_decision({h: kept[f"{h}_kept"] for h in HEADS})
    except BaseException:
        session.rollback()
        raise
    return decision


def stale_message(session: Session, complaint_id: int, expected_revision: int) -> str:
    """What a handler who saw revision ``expected_revision`` of a complaint is told when it moved on."""
    latest = session.scalar(select(Decision).where(Decision.complaint_id == complaint_id)
                            .order_by(Decision.revision.desc()).limit(1))
    if latest is None:
        return (f"Pengaduan #{complaint_id} tidak lagi pada revisi {expected_revision}. Muat ulang pengaduannya, "
                "lalu putuskan lagi.")
    return (f"Pengaduan #{complaint_id} sudah diputuskan oleh {latest.decided_by} (revisi {latest.revision}: "
            f"kategori {latest.category}, OPD {latest.opd}, maladministrasi {latest.maladministration}) sejak "
            f"Anda membukanya pada revisi {expected_revision}. Keputusan Anda belum disimpan. Muat ulang "
            f"pengaduannya, lalu kirim lagi dengan expected_revision {latest.revision} bila tetap ingin "
            "menimpanya sebagai revisi baru.")


def history(session: Session, complaint_id: int) -> list[Decision]:
    """Every decision on ``complaint_id``, oldest revision first."""
    return list(session.scalars(select(Decision).where(Decision.complaint_id == complaint_id)
                                .order_by(Decision.revision)))


def latest_decisions(session: Session) -> list[tuple[Complaint, Decision]]:
    """Each decided complaint with its latest decision: the labelled history retraining learns from."""
    query = (select(Complaint, Decision)
             .join(Decision, (Decision.complaint_id == Complaint.id) & (Decision.revision == Complaint.revisions))
             .where(Complaint.status == "decided")  # not complaints whose bulk confirmation was undone
             .order_by(Decision.decided_at, Decision.id))
    return [(c, d) for c, d in session.execute(query)]


def stats(session: Session, date_from: date | None = None, date_to: date | None = None, *,
          opd: str | None = None, category: str | None = None) -> dict:
    """Counts of complaints received in the date range per status, OPD and category (the routing in
    force), and per head the share of decisions made in the range that kept the suggested code. With
    ``opd`` or ``category``, only complaints routed there now, and the decisions on them."""
    start, end = day_range(date_from, date_to)

    def within(query, column):
        if column is Decision.decided_at and (opd is not None or category is not None):
            query = query.join(Complaint, Complaint.id == Decision.complaint_id)
        query = routed(query, opd, category)
        if start is not None:
            query = query.where(column >= start)
        if end is not None:
            query = query.where(column < end)
        return query

    def counts(column) -> dict[str, int]:
        query = within(select(column, func.count()).group_by(column), Complaint.received_at)
        return {str(key): n for key, n in session.execute(query.order_by(func.count().desc(), column))}

    by_status = {status: 0 for status in STATUSES} | counts(Complaint.status)
    kept_sums = [func.coalesce(func.sum(cast(getattr(Decision, f"{h}_kept"), Integer)), 0) for h in HEADS]
    row = session.execute(within(select(func.count(), *kept_sums), Decision.decided_at)).one()
    n_decisions, kept = row[0], row[1:]
    return {
        "date_from": date_from,
        "date_to": date_to,
        "complaints": sum(by_status.values()),
        "by_status": by_status,
        "by_opd": counts(Complaint.opd),
        "by_category": counts(Complaint.category),
        "needs_review": session.scalar(within(
            select(func.count()).where(Complaint.needs_review.is_(True)), Complaint.received_at)) or 0,
        "decisions": n_decisions,
        "acceptance": {h: {"kept": int(k), "decisions": n_decisions,
                           "rate": round(int(k) / n_decisions, 4) if n_decisions else None}
                       for h, k in zip(HEADS, kept)},
    }

