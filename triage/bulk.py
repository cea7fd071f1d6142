"""Bulk confirmation from the queue, and its one undo.

:func:`confirm_in_bulk` confirms the suggestion of many complaints at once: each one becomes its own
decision revision through :func:`triage.decisions.record_decision` (the function a single confirmation
uses), tagged with the id of a :class:`~triage.db.DecisionBatch`. Only complaints a bulk confirmation may
take are confirmed: still pending, at the revision the handler saw, and with no head flagged
``needs_review`` (every head's confidence at or above its review threshold). The rest are reported, not
confirmed.

:func:`undo_batch` takes a whole batch back without deleting anything (decisions are never updated or
deleted, so the audit trail stays what happened):

* a complaint decided before the batch gets a new revision restoring the previous decision's codes, with
  a note naming the batch;
* a complaint that was pending before the batch is pending again: its routing returns to the suggestion
  and its status to ``pending``. No revision can say "not decided", so none is added; the batch's decision
  stays in the history, and the batch records when and by whom it was undone (the page marks those
  decisions "dibatalkan"). Retraining does not learn from it: it takes only decided complaints. Its routing
  is taken back as an ``unroute`` step of its lifecycle (:func:`triage.lifecycle.record_event`): it waits
  in the stage it had before the batch, with that stage's deadline. A complaint the OPD acknowledged
  meanwhile is left as it is, and reported.
* a complaint someone decided again after the batch is left as that person decided it, and reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from triage.complaints import MAX_ID
from triage.db import Complaint, Decision, DecisionBatch, utcnow
from triage.decisions import Decider, record_decision
from triage.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from triage.lifecycle import STAGE_NAMES, record_event
from triage.taxonomy import HEADS, Taxonomy

MAX_BATCH = 200
"""Most complaints one bulk confirmation takes (two pages of the queue)."""


@dataclass
class BatchResult:
    """What a bulk confirmation or its undo did: the complaints it changed and, per complaint it left
    alone, why (in Bahasa Indonesia)."""

    batch_id: int | None
    done: list[int] = field(default_factory=list)
    left: dict[int, str] = field(default_factory=dict)


def eligible(complaint: Complaint, taxonomy: Taxonomy | None = None) -> bool:
    """Whether a bulk confirmation may take ``complaint``: pending, no head needing review, and (with the
    deployment's ``taxonomy``) suggested to a body of the pemda: forwarding outside it (*bukan wewenang*)
    closes the complaint, so a handler does it one by one."""
    return complaint.status == "pending" and not complaint.needs_review and not _outside(complaint, taxonomy)


def _outside(complaint: Complaint, taxonomy: Taxonomy | None) -> bool:
    label = taxonomy.labels["opd"].get(complaint.suggested_opd) if taxonomy is not None else None
    return label is not None and label.outside


def confirm_in_bulk(session: Session, taxonomy: Taxonomy, seen: Iterable[tuple[int, int]],
                    decider: Decider) -> BatchResult:
    """Confirm the suggestions of the complaints in ``seen`` (id, revision count the handler saw), each
    as its own revision of one new batch; commits each decision as it goes.

    A complaint that is not eligible (:func:`eligible`) or moved on since it was seen is left out, with
    the reason. When none is confirmed no batch is kept.
    """
    wanted = list(dict.fromkeys(seen))
    if len(wanted) > MAX_BATCH:
        raise InvalidInputError(f"Terpilih {len(wanted)} pengaduan; satu konfirmasi massal paling banyak "
                                f"{MAX_BATCH}. Konfirmasi sebagian dulu.")
    batch = DecisionBatch(decided_by=decider.name, api_key_id=decider.key_id, created_at=utcnow())
    session.add(batch)
    session.commit()
    result = BatchResult(batch_id=batch.id)
    for complaint_id, revision in wanted:
        complaint = session.get(Complaint, complaint_id)
        if complaint is None:
            result.left[complaint_id] = "tidak ditemukan"
            continue
        if complaint.needs_review:
            result.left[complaint_id] = "perlu ditinjau: putuskan satu per satu"
            session.rollback()
            continue
        if _outside(complaint, taxonomy):
            result.left[complaint_id] = "bukan wewenang pemda: teruskan satu per satu"
            session.rollback()
            continue
        if complaint.status != "pending" or complaint.revisions != revision:
            result.left[complaint_id] = _moved_on(session, complaint_id)
            session.rollback()
            continue
        codes = {h: getattr(complaint, f"suggested_{h}") for h in HEADS}
        session.rollback()  # end the read before record_decision's own transaction
        try:
            record_decision(session, taxonomy, complaint_id, **codes, decider=decider,
                            expected_revision=revision, batch_id=batch.id)
        except ConflictError:
            result.left[complaint_id] = _moved_on(session, complaint_id)
            session.rollback()
            continue
        result.done.append(complaint_id)
    if not result.done:
        session.delete(session.get(DecisionBatch, batch.id))
        session.commit()
        result.batch_id = None
    return result


def undo_batch(session: Session, taxonomy: Taxonomy, batch_id: int, decider: Decider,
               admin: bool = False) -> BatchResult:
    """Take back every decision of batch ``batch_id`` (see the module); only who made it, or an admin.

    :class:`NotFoundError` for an unknown batch, :class:`ConflictError` if it was undone already,
    :class:`ForbiddenError` for another handler's batch.
    """
    batch = session.get(DecisionBatch, batch_id) if 0 < batch_id <= MAX_ID else None
    if batch is None:
        raise NotFoundError(f"Konfirmasi massal #{batch_id} tidak ditemukan. Periksa nomornya.")
    if batch.undone_at is not None:
        raise ConflictError(f"Konfirmasi massal #{batch_id} sudah dibatalkan oleh {batch.undone_by}. "
                            "Tidak ada yang perlu dibatalkan lagi.")
    if not admin and batch.decided_by != decider.name:
        raise ForbiddenError(f"Konfirmasi massal #{batch_id} dibuat oleh {batch.decided_by}; hanya dia atau "
                             "admin yang dapat membatalkannya.")
    decisions = list(session.scalars(select(Decision).where(Decision.batch_id == batch_id)
                                     .order_by(Decision.complaint_id)))
    batch.undone_at, batch.undone_by = utcnow(), decider.name
    session.commit()  # claimed: a second undo at the same time is refused above
    result = BatchResult(batch_id=batch_id)
    for decision in decisions:
        previous = session.scalar(select(Decision).where(Decision.complaint_id == decision.complaint_id,
                                                         Decision.revision == decision.revision - 1))
        if previous is not None:
            codes = {h: getattr(previous, h) for h in HEADS}
            session.rollback()
            try:
                record_decision(session, taxonomy, decision.complaint_id, **codes, decider=decider,
                                note=f"Membatalkan konfirmasi massal #{batch_id}",
                                expected_revision=decision.revision)
            except ConflictError:
                result.left[decision.complaint_id] = _moved_on(session, decision.complaint_id)
                session.rollback()
                continue
        else:
            back = (update(Complaint)
                    .where(Complaint.id == decision.complaint_id, Complaint.revisions == decision.revision)
                    .values(status="pending", **{h: getattr(Complaint, f"suggested_{h}") for h in HEADS}))
            try:
                if session.execute(back).rowcount != 1:
                    raise ConflictError("moved on")
                # the routing is taken back too: an event, the complaint back in its stage before the batch
                record_event(session, decision.complaint_id, "unroute", by=decider, commit=False,
                             note=f"Membatalkan konfirmasi massal #{batch_id}", data={"batch_id": batch_id})
            except ConflictError:  # decided again, or already acknowledged by the OPD: left as it is
                session.rollback()
                result.left[decision.complaint_id] = _moved_on(session, decision.complaint_id, batch_id)
                session.rollback()
                continue
            session.commit()
        result.done.append(decision.complaint_id)
    return result


def undone_batches(session: Session, batch_ids: Iterable[int | None]) -> dict[int, DecisionBatch]:
    """The undone batches among ``batch_ids``, by id (to mark their decisions in a history)."""
    ids = {i for i in batch_ids if i is not None}
    if not ids:
        return {}
    return {b.id: b for b in session.scalars(select(DecisionBatch).where(DecisionBatch.id.in_(ids),
                                                                          DecisionBatch.undone_at.is_not(None)))}


def _moved_on(session: Session, complaint_id: int, batch_id: int | None = None) -> str:
    latest = session.scalar(select(Decision).where(Decision.complaint_id == complaint_id)
                            .order_by(Decision.revision.desc()).limit(1))
    if latest is None:
        return "berubah sejak ditampilkan"
    if batch_id is not None and latest.batch_id == batch_id:  # still the batch's routing: the OPD moved on
        stage = session.scalar(select(Complaint.stage).where(Complaint.id == complaint_id))
        return f"sudah ditindaklanjuti OPD (status '{STAGE_NAMES.get(stage, stage)}')"
    return f"sudah diputuskan oleh {latest.decided_by} (revisi {latest.revision})"
