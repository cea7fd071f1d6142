"""Working a queue as a team: bulk confirmation and its undo, saved filters, presence marks and the
conflict page of a decision that lands on a complaint decided meanwhile.

Routes here parse the form, call :mod:`triage.bulk`, :mod:`triage.saved_filters` or
:mod:`triage.presence` and redirect back to the queue; :func:`queue_context` and
:func:`complaint_context` add what those pages show to the contexts built in :mod:`triage.web.pages`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from triage.api.deps import SessionDep, SuggesterDep
from triage.bulk import confirm_in_bulk, eligible, undo_batch, undone_batches
from triage.complaints import get_complaint
from triage.db import Complaint, DecisionBatch
from triage.decisions import Decider, history
from triage.errors import InvalidInputError
from triage.presence import HEARTBEAT_SECONDS, mark_open, open_by_others
from triage.saved_filters import delete_filter, save_filter, saved_filters
from triage.taxonomy import HEADS, Taxonomy
from triage.web.queue import QueueQuery, complaint_ids, number
from triage.web.render import PageRoute
from triage.web.session import PostUserDep, WebUser

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _decider(user: WebUser) -> Decider:
    return Decider(name=user.caller.name, key_id=user.caller.key_id)


def _back(query_string: str, **params: str) -> RedirectResponse:
    extra = urlencode(params)
    joined = "&".join(p for p in (query_string, extra) if p)
    return RedirectResponse("/antrean" + ("?" + joined if joined else ""), status_code=303)


# -- what the queue and the complaint show --------------------------------------------------------------


def queue_context(db: Session, user: WebUser, items: list[Complaint], request: Request,
                  taxonomy: Taxonomy | None = None) -> dict:
    """Saved filters, who has which row open, which rows a bulk confirmation may take, and the outcome of
    the last bulk confirmation or undo (from the redirect's parameters)."""
    key_id = user.caller.key_id
    batch_note = None
    batch_id = number(request.query_params.get("massal"))
    if batch_id:
        batch = db.get(DecisionBatch, batch_id)
        if batch is not None:
            batch_note = {"batch": batch, "done": request.query_params.get("jumlah", ""),
                          "left": request.query_params.get("sisa", ""),
                          "undone": request.query_params.get("batal", "")}
    result = {
        "saved_filters": saved_filters(db, key_id),
        "open_by": open_by_others(db, [c.id for c in items], key_id),
        "eligible": {c.id for c in items if eligible(c, taxonomy)},
        "batch_note": batch_note,
    }
    saved, dropped = request.query_params.get("disimpan"), request.query_params.get("dihapus")
    if saved:
        result["message"] = f"Penyaring '{saved}' tersimpan."
    elif dropped:
        result["message"] = f"Penyaring '{dropped}' dihapus."
    db.rollback()  # end the reads: on SQLite they hold the write lock
    return result


def complaint_context(db: Session, complaint: Complaint, user: WebUser) -> dict:
    """Mark the complaint open by ``user`` (commits) and say who else has it open, and which decisions of
    its history belong to an undone bulk confirmation."""
    mark_open(db, complaint.id, user.caller.key_id, user.caller.name)
    batches = undone_batches(db, [d.batch_id for d in history(db, complaint.id)])
    others = open_by_others(db, [complaint.id], user.caller.key_id).get(complaint.id, [])
    db.rollback()
    return {"open_by": others, "undone_batches": batches, "heartbeat_seconds": HEARTBEAT_SECONDS,
            "conflict": None}


def conflict_context(db: Session, taxonomy: Taxonomy, complaint: Complaint, codes: dict[str, str],
                     note: str) -> dict:
    """What the complaint page shows when a decision came for a revision the complaint has left: the latest
    decision and, to overwrite deliberately, the codes and note the handler sent."""
    decisions = history(db, complaint.id)
    latest = decisions[-1] if decisions else None
    db.rollback()
    return {"conflict": {
        "latest": latest, "codes": codes, "note": note,
        "names": {h: taxonomy.name_of(h, code) for h, code in codes.items()},
        "latest_names": {h: taxonomy.name_of(h, getattr(latest, h)) for h in HEADS} if latest else {}}}


# -- bulk confirmation ----------------------------------------------------------------------------------


@router.post("/antrean/konfirmasi")
def bulk_confirm(request: Request, user: PostUserDep, db: SessionDep, suggester: SuggesterDep,
                 pilih: Annotated[list[str], Form()] = [], antrean: Annotated[str, Form()] = "",
                 tampil: Annotated[str, Form()] = "") -> Response:
    """Confirm the suggestions of the rows ticked in the queue (``pilih``: ``<id>:<revision seen>``). The
    tickable rows that were shown (``tampil``, ids joined by commas) but left unticked are remembered for
    the pass (:attr:`QueueQuery.unticked`): selecting all confident rows again leaves them out."""
    query = QueueQuery.from_string(antrean, suggester.taxonomy)
    if not pilih:
        raise InvalidInputError("Belum ada pengaduan yang dipilih. Centang pengaduan yang sarannya sudah "
                                "yakin, lalu tekan Konfirmasi terpilih.")
    seen = []
    for value in pilih:
        complaint_id, _, revision = (number(part) for part in value.partition(":"))
        if complaint_id is None or revision is None:
            raise InvalidInputError(f"Pilihan '{value[:40]}' tidak sah: harus nomor pengaduan dan revisinya, "
                                    "misalnya 62:0. Muat ulang antreannya.")
        seen.append((complaint_id, revision))
    shown = complaint_ids(tampil, "yang ditampilkan")
    ticked = {complaint_id for complaint_id, _ in seen}
    query = query.leaving_unticked(i for i in shown if i not in ticked)
    result = confirm_in_bulk(db, suggester.taxonomy, seen, _decider(user))
    params = {"jumlah": str(len(result.done)), "sisa": _left(result.left)}
    if result.batch_id is not None:
        params["massal"] = str(result.batch_id)
    return _back(query.string(page=1), **{k: v for k, v in params.items() if v})


@router.post("/antrean/massal/{batch_id}/batal")
def bulk_undo(request: Request, batch_id: int, user: PostUserDep, db: SessionDep, suggester: SuggesterDep,
              antrean: Annotated[str, Form()] = "") -> Response:
    """Undo a bulk confirmation (see :func:`triage.bulk.undo_batch`)."""
    query = QueueQuery.from_string(antrean, suggester.taxonomy)
    result = undo_batch(db, suggester.taxonomy, batch_id, _decider(user), admin=user.caller.role == "admin")
    params = {"massal": str(batch_id), "batal": str(len(result.done)), "sisa": _left(result.left)}
    return _back(query.string(page=1), **{k: v for k, v in params.items() if v})


def _left(left: dict[int, str]) -> str:
    """The complaints a batch left alone, for the message: "#12 sudah diputuskan oleh budi (revisi 1); ..."."""
    shown = [f"#{i} {why}" for i, why in list(left.items())[:10]]
    more = len(left) - len(shown)
    return "; ".join(shown) + (f"; dan {more} lainnya" if more > 0 else "")


# -- saved filters --------------------------------------------------------------------------------------


@router.post("/antrean/penyaring")
def save(request: Request, user: PostUserDep, db: SessionDep, suggester: SuggesterDep,
         nama: Annotated[str, Form()] = "", antrean: Annotated[str, Form()] = "") -> Response:
    """Save the queue's current filters (``antrean``) under ``nama`` for the signed-in key."""
    query = QueueQuery.from_string(antrean, suggester.taxonomy)
    normal = query.string(page=1, skipped=(), unticked=())
    saved = save_filter(db, user.caller.key_id, nama, normal)
    return _back(normal, disimpan=saved.name)


@router.post("/antrean/penyaring/{filter_id}/hapus")
def delete(request: Request, filter_id: int, user: PostUserDep, db: SessionDep,
           antrean: Annotated[str, Form()] = "") -> Response:
    name = delete_filter(db, user.caller.key_id, filter_id)
    return _back(antrean if _plain(antrean) else "", dihapus=name)


def _plain(query_string: str) -> bool:
    return all(c.isalnum() or c in "=&_-%+.," for c in query_string)


# -- presence -------------------------------------------------------------------------------------------


@router.post("/pengaduan/{complaint_id}/hadir")
def heartbeat(complaint_id: int, user: PostUserDep, db: SessionDep) -> Response:
    """The complaint page's script: the handler still has the complaint open (no page, 204)."""
    get_complaint(db, complaint_id)
    db.rollback()
    mark_open(db, complaint_id, user.caller.key_id, user.caller.name)
    return Response(status_code=204)

