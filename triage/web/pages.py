"""The handlers' pages: sign-in, the queue, a complaint with its suggestion and decisions, intake.

Every route parses the form or URL, calls one of triage's library functions and renders a template;
errors become pages in :class:`~triage.web.render.PageRoute`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from triage.api.deps import SessionDep, SettingsDep, SuggesterDep
from triage.apikeys import Caller, authenticate
from triage.complaints import ComplaintFilter, create_complaint, get_complaint, list_complaints
from triage.db import CHANNELS, Complaint
from triage.decisions import Decider, history, record_decision
from triage.decisions import stats as decision_stats
from triage.errors import AuthError, ConflictError, ForbiddenError, InvalidInputError
from triage.lifecycle import STAGE_NAMES, TO_ROUTE, is_overdue
from triage.presence import mark_closed
from triage.suggest import Suggester
from triage.taxonomy import HEADS, Taxonomy
from triage.throttle import client_of, too_many_message
from triage.web.followup import FOCAL_PAGES, done_message, lifecycle_context
from triage.web.highlight import deciding_words, highlight
from triage.web.queue import PAGE_SIZE, QueueQuery, next_in_queue, number
from triage.web.render import PageRoute, local_path, page, resumes_at, snippet
from triage.web.session import (
    ANONYMOUS_SECONDS,
    MemberDep,
    PostMemberDep,
    PostUserDep,
    UserDep,
    WebSession,
    caller_of,
    check_csrf,
    clear_cookie,
    csrf_token,
    current_session,
    end_session,
    home_of,
    secret_of,
    set_cookie,
    start_session,
)
from triage.web.worklist import complaint_context, conflict_context, queue_context

router = APIRouter(route_class=PageRoute, include_in_schema=False)

NOTE_MAX = 2000
ACTIONS = {"konfirmasi": "dikonfirmasi", "koreksi": "dikoreksi"}


# -- sign-in ----------------------------------------------------------------------------------------


@router.get("/")
def home() -> Response:
    return RedirectResponse("/antrean", status_code=303)


@router.get("/masuk")
def sign_in_form(request: Request, next: str = "/antrean", alasan: str = "", keluar: str = "") -> Response:
    """The sign-in form; a visitor already signed in goes straight on."""
    session = current_session(request)
    caller = caller_of(request, session.key_id) if session is not None and session.key_id is not None else None
    if caller is not None:
        return RedirectResponse(_landing(caller, next), status_code=303)
    message = None
    if alasan == "dicabut":
        message = "Kunci API Anda sudah dicabut atau dihapus. Masuk lagi dengan kunci yang berlaku."
    elif alasan == "habis" and "draf=" in next:
        message = ("Sesi Anda sudah berakhir sebelum keputusan Anda tersimpan, jadi keputusan itu belum "
                   "tersimpan. Masuk lagi: pilihan dan catatan Anda ditampilkan kembali untuk diperiksa dan "
                   "dikirim ulang.")
    elif alasan == "habis":
        message = "Sesi Anda sudah berakhir dan isian terakhir belum tersimpan. Masuk lagi untuk melanjutkan."
    elif keluar:
        message = "Anda sudah keluar."
    return _sign_in_page(request, next, error=None, message=message)


@router.post("/masuk")
def sign_in(request: Request, db: SessionDep, api_key: Annotated[str, Form()] = "",
            csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/antrean") -> Response:
    """Check the key; on success start a session holding only the key's id."""
    try:
        check_csrf(request, csrf)
    except ForbiddenError as exc:
        return _sign_in_page(request, next, error=str(exc), status_code=403)
    failures, client = request.app.state.key_failures, client_of(request.scope)  # shared with the API
    wait = failures.retry_after(client)
    if wait is not None:
        response = _sign_in_page(request, next, error=too_many_message(wait), status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        caller = authenticate(db, api_key.strip())
    except AuthError:
        if api_key.strip():
            failures.failed(client)
        error = "Kunci API tidak dikenal atau sudah dicabut. Periksa kuncinya atau minta kunci baru ke admin."
        return _sign_in_page(request, next, error=error, status_code=401)
    settings = request.app.state.settings
    response = RedirectResponse(_landing(caller, next), status_code=303)
    set_cookie(request, response, start_session(db, caller.key_id, settings.session_hours * 3600))
    return response


@router.get("/keluar")
def sign_out_form(request: Request, user: MemberDep) -> Response:
    """Opening the sign-out address asks first: a link (or a prefetch) never signs anyone out."""
    return page(request, "signout.html", {"user": user})


@router.post("/keluar")
def sign_out(request: Request, user: PostMemberDep, db: SessionDep) -> Response:
    """End the session, on the server too (a copy of the cookie stops working)."""
    end_session(db, request)
    response = RedirectResponse("/masuk?keluar=1", status_code=303)
    clear_cookie(request, response)
    return response


def _sign_in_page(request: Request, next: str, error: str | None, message: str | None = None,
                  status_code: int = 200) -> Response:
    session = current_session(request)
    if session is None or session.key_id is not None:
        session = WebSession.new(None, ANONYMOUS_SECONDS)
    context = {"csrf": csrf_token(secret_of(request), session), "next": local_path(next), "error": error,
               "message": message}
    response = page(request, "signin.html", context, status_code=status_code)
    set_cookie(request, response, session)
    return response


def _landing(caller: Caller, target: str) -> str:
    """Where ``caller`` goes after signing in: ``target``, unless it is a handlers' page and the caller a
    focal point (whose pages are under /narahubung, and the report)."""
    target = local_path(target)
    if caller.role == "focal_point" and not target.startswith(FOCAL_PAGES):
        return home_of(caller)
    return target


# -- the queue --------------------------------------------------------------------------------------


@router.get("/antrean")
def queue(request: Request, user: UserDep, db: SessionDep, suggester: SuggesterDep) -> Response:
    """Complaints matching the filters, with the counts a handler starts the day with."""
    taxonomy = suggester.taxonomy
    query = QueueQuery.parse(request.query_params, taxonomy)
    items, total = list_complaints(db, query.filter(), order=query.order, limit=PAGE_SIZE,  # type: ignore[arg-type]
                                   offset=query.offset)
    today = datetime.now(timezone.utc).date()
    counts = {
        "pending": _count(db, ComplaintFilter(stages=TO_ROUTE)),
        "review": _count(db, ComplaintFilter(stages=TO_ROUTE, needs_review=True)),
        "overdue": _count(db, ComplaintFilter(overdue=True)),
        "decided_today": decision_stats(db, today, today)["decisions"],
        "matching": total,
    }
    return page(request, "queue.html", {
        "user": user, "query": query, "items": [_row(c, taxonomy) for c in items], "counts": counts,
        "options": _options(taxonomy), "channels": CHANNELS, "stages": STAGE_NAMES, "overdue_now": _overdue_now(), "page_count": max(1, -(-total // PAGE_SIZE)),
        "message": _done_message(request), **queue_context(db, user, items, request, taxonomy),
    })


def _overdue_now():
    """Whether a complaint is overdue now (for the queue's marks)."""
    now = datetime.now(timezone.utc)
    return lambda complaint: is_overdue(complaint, now)


def _count(db, where: ComplaintFilter) -> int:
    return list_complaints(db, where, limit=1)[1]


def _row(complaint: Complaint, taxonomy: Taxonomy) -> dict:
    return {"complaint": complaint, "snippet": snippet(complaint.text),
            "names": {h: taxonomy.name_of(h, getattr(complaint, h)) for h in HEADS}}


def _done_message(request: Request) -> str | None:
    done, action = request.query_params.get("selesai", ""), request.query_params.get("aksi", "")
    if done.isdigit() and action in ACTIONS:
        return f"Pengaduan #{done} {ACTIONS[action]}."
    if done.isdigit() and action == "baru":
        return f"Pengaduan #{done} tersimpan dan sudah diberi saran."
    if request.query_params.get("habis"):
        return "Tidak ada pengaduan berikutnya di antrean ini."
    return done_message(request.query_params)  # a lifecycle step (archived from the queue)


# -- a complaint ------------------------------------------------------------------------------------


@router.get("/pengaduan/baru")
def intake_form(request: Request, user: UserDep, settings: SettingsDep) -> Response:
    return _intake_page(request, user, settings.max_text_chars, values={"channel": "desk"})


@router.post("/pengaduan/baru")
def intake(request: Request, user: PostUserDep, db: SessionDep, suggester: SuggesterDep,
           settings: SettingsDep, text: Annotated[str, Form()] = "", channel: Annotated[str, Form()] = "desk",
           external_id: Annotated[str, Form()] = "", received_at: Annotated[str, Form()] = "",
           tz_offset: Annotated[str, Form()] = "") -> Response:
    """Store a complaint taken at the desk or by phone and show it with its suggestion."""
    values = {"text": text, "channel": channel, "external_id": external_id, "received_at": received_at}
    try:
        complaint = create_complaint(db, suggester, text, external_id=external_id.strip() or None,
                                     channel=channel or None, received_at=_received(received_at, tz_offset),
                                     max_chars=settings.max_text_chars)
    except InvalidInputError as exc:
        return _intake_page(request, user, settings.max_text_chars, values, error=str(exc), status_code=422)
    except ConflictError:  # the store's message names the API's field; the desk knows a ticket number
        existing = db.scalar(select(Complaint.id).where(Complaint.external_id == external_id.strip()))
        error = (f"Nomor tiket asal '{external_id.strip()}' sudah tersimpan sebagai pengaduan #{existing}. "
                 "Buka pengaduan itu dari antrean; jangan disimpan dua kali.")
        return _intake_page(request, user, settings.max_text_chars, values, error=error, status_code=409)
    return RedirectResponse(f"/pengaduan/{complaint.id}?selesai={complaint.id}&aksi=baru", status_code=303)


def _intake_page(request: Request, user, max_chars: int, values: dict, error: str | None = None,
                 status_code: int = 200) -> Response:
    values = {"text": "", "channel": "desk", "external_id": "", "received_at": ""} | values
    return page(request, "intake.html", {"user": user, "values": values, "error": error, "channels": CHANNELS,
                                         "max_chars": max_chars}, status_code=status_code)


def _received(value: str, tz_offset: str) -> datetime | None:
    """The form's ``datetime-local`` value in the browser's zone (``tz_offset``: minutes behind UTC, as
    JavaScript's ``getTimezoneOffset``; UTC without it); ``None`` (now) when empty."""
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        offset = int(tz_offset) if tz_offset.strip() else 0
        if not -16 * 60 <= offset <= 16 * 60:
            raise ValueError(offset)
    except ValueError:
        raise InvalidInputError(f"Waktu diterima '{value}' tidak sah. Isi tanggal dan jam, misalnya "
                                "2026-11-23 08:30, atau kosongkan untuk waktu sekarang.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone(-timedelta(minutes=offset)))
    if moment > datetime.now(timezone.utc) + timedelta(minutes=5):
        raise InvalidInputError("Waktu diterima ada di masa depan. Periksa tanggal dan jamnya.")
    return moment


@router.get("/pengaduan/{complaint_id}")
def complaint_page(request: Request, complaint_id: int, user: UserDep, db: SessionDep,
                   suggester: SuggesterDep) -> Response:
    """A complaint: its text with the explaining words marked, the suggestion, the decision form and the
    history."""
    complaint = get_complaint(db, complaint_id)
    taxonomy = suggester.taxonomy
    query = QueueQuery.from_string(request.query_params.get("antrean", ""), taxonomy)
    draft = _draft_of(request)
    if draft is not None:
        draft["changed"] = any(code != getattr(complaint, head) for head, code in draft["codes"].items())
    return page(request, "complaint.html", {"user": user, **_complaint_context(db, complaint, suggester),
                                            "draft": draft,
                                            **complaint_context(db, complaint, user),
                                            **lifecycle_context(db, complaint, user, request),
                                            "query": query,
                                            "message": _draft_message(request) if draft else
                                            _done_message(request)})


DRAFT_MESSAGE = ("Keputusan ini belum tersimpan karena sesi Anda sudah berakhir. Pilihan dan catatan Anda "
                 "ada di bawah: periksa, lalu kirim lagi.")
CHANGED_MESSAGE = ("Anda mengubah pilihan koreksi lalu menekan Konfirmasi saran, jadi keputusan ini belum "
                   "tersimpan. Pilihan dan catatan Anda ada di bawah: tekan Simpan perubahan rute untuk "
                   "menyimpannya, atau kembalikan pilihannya untuk mengonfirmasi saran.")


def _draft_message(request: Request) -> str:
    return CHANGED_MESSAGE if request.query_params.get("sebab") == "ubah" else DRAFT_MESSAGE


def _picked(value: str) -> tuple[str, str]:
    """The head and code of an alternative's "Pilih" button (``opd:dinsos``)."""
    head, _, code = value.partition(":")
    if head not in HEADS or not code:
        raise InvalidInputError(f"Pilihan alternatif '{value[:40]}' tidak sah: harus bagian dan kodenya, "
                                "misalnya opd:dinsos. Muat ulang halaman pengaduan.")
    return head, code


def _decision_draft(request: Request, form) -> str:
    """Where a decision sent after the session ended waits to be sent again: its complaint's page with the
    action, the chosen codes and the note in the URL (``draf``)."""
    codes = {h: str(form.get(h, "")) for h in HEADS}
    action = str(form.get("action", "")) or "konfirmasi"
    if form.get("pilih"):
        head, code = _picked(str(form.get("pilih")))
        action, codes[head] = "koreksi", code
    fields = {"antrean": str(form.get("antrean", "")), "draf": action,
              **codes, "catatan": str(form.get("note", ""))[:NOTE_MAX]}
    kept = {name: value for name, value in fields.items() if value}
    return f"/pengaduan/{request.path_params['complaint_id']}" + _query(kept)


def _draft_of(request: Request) -> dict | None:
    """The decision :func:`_decision_draft` put in the URL, or ``None``."""
    params = request.query_params
    if params.get("draf") not in ACTIONS:
        return None
    return {"action": params["draf"], "note": params.get("catatan", "")[:NOTE_MAX],
            "codes": {h: params[h] for h in HEADS if params.get(h)}}


@router.get("/pengaduan/{complaint_id}/berikutnya")
def next_complaint(request: Request, complaint_id: int, user: UserDep, db: SessionDep,
                   suggester: SuggesterDep) -> Response:
    """Skip to the complaint after this one in the queue the handler came from."""
    query = QueueQuery.from_string(request.query_params.get("antrean", ""), suggester.taxonomy)
    return _go_on(db, query.skipping(complaint_id), complaint_id, None)


@router.post("/pengaduan/{complaint_id}/keputusan")
@resumes_at(_decision_draft)
def decide(request: Request, complaint_id: int, user: PostUserDep, db: SessionDep, suggester: SuggesterDep,
           action: Annotated[str, Form()] = "", category: Annotated[str, Form()] = "",
           opd: Annotated[str, Form()] = "", maladministration: Annotated[str, Form()] = "",
           note: Annotated[str, Form()] = "", antrean: Annotated[str, Form()] = "",
           expected_revision: Annotated[str, Form()] = "", pilih: Annotated[str, Form()] = "") -> Response:
    """Confirm the suggestion (``action=konfirmasi``) or correct it with the chosen codes (``koreksi``), then
    go on to the next complaint of the queue. ``pilih`` (``<head>:<code>``, an alternative's "Pilih" button)
    corrects with that code for that head and the correction lists' codes for the others."""
    taxonomy = suggester.taxonomy
    query = QueueQuery.from_string(antrean, taxonomy)
    picked = dict([_picked(pilih)]) if pilih else {}
    if picked:
        action = "koreksi"
    if action not in ACTIONS:
        raise InvalidInputError("Pilih Konfirmasi atau Simpan koreksi.")
    if len(note) > NOTE_MAX:
        raise InvalidInputError(f"Catatan terlalu panjang: {len(note)} karakter, batasnya {NOTE_MAX}.")
    complaint = get_complaint(db, complaint_id)
    posted = {"category": category, "opd": opd, "maladministration": maladministration}
    seen_revision = number(expected_revision)
    shown = seen_revision is None or seen_revision == complaint.revisions
    if action == "konfirmasi" and shown and any(code and code != getattr(complaint, head)
                                                for head, code in posted.items()):
        # The lists were changed but "Konfirmasi saran" was sent: store nothing rather than drop the change.
        form = {"action": action, "note": note, "antrean": antrean, **posted}
        return RedirectResponse(_decision_draft(request, form) + "&sebab=ubah", status_code=303)
    if action == "konfirmasi":
        codes = {h: getattr(complaint, f"suggested_{h}") for h in HEADS}
    else:
        codes = {"category": category, "opd": opd, "maladministration": maladministration} | picked
    try:
        record_decision(db, taxonomy, complaint_id, **codes, note=note.strip() or None,
                        decider=Decider(name=user.caller.name, key_id=user.caller.key_id),
                        expected_revision=seen_revision)
    except ConflictError:  # decided by someone else since the page was shown: a page (200) saying what, and
        # offering to overwrite as a new revision; nothing was stored
        complaint = get_complaint(db, complaint_id)
        return page(request, "complaint.html", {
            "user": user, **_complaint_context(db, complaint, suggester), **complaint_context(db, complaint, user),
            **conflict_context(db, taxonomy, complaint, codes, note), "query": query, "message": None})
    mark_closed(db, complaint_id, user.caller.key_id)
    return _go_on(db, query, complaint_id, action)


def _go_on(db, query: QueueQuery, complaint_id: int, action: str | None) -> Response:
    """Redirect to the complaint after ``complaint_id`` in the queue, or to the queue when none is left."""
    following = next_in_queue(db, query, complaint_id)
    done = {"selesai": str(complaint_id), "aksi": action} if action else {}
    if following is None:
        params = replace(query, page=1, skipped=(), unticked=()).params() | (done or {"habis": "1"})  # pass over
        return RedirectResponse("/antrean" + _query(params), status_code=303)
    queue_string = query.string(page=1)
    params = ({"antrean": queue_string} if queue_string else {}) | done
    return RedirectResponse(f"/pengaduan/{following}" + _query(params), status_code=303)


def _query(params: dict[str, str]) -> str:
    return "?" + urlencode(params) if params else ""


def _complaint_context(db, complaint: Complaint, suggester: Suggester) -> dict:
    taxonomy = suggester.taxonomy
    suggestion = complaint.suggestion
    explanation = suggestion.get("explanation") or {}
    stems = suggester.model.features_.stems
    words = deciding_words(complaint.text, explanation, stems)
    # The review threshold is the serving model's; a complaint suggested by another model shows none.
    same_model = complaint.model_version == suggester.version
    heads = []
    for head in HEADS:
        data = suggestion[head]
        heads.append({"head": head, "code": data["code"], "name": taxonomy.name_of(head, data["code"]),
                      "confidence": data["confidence"], "needs_review": data["needs_review"],
                      "alternatives": [{"code": a["code"], "name": taxonomy.name_of(head, a["code"]),
                                        "confidence": a["confidence"]} for a in data["alternatives"]],
                      "terms": words.get(head, []),
                      "threshold": suggester.model.thresholds_.get(head) if same_model else None,
                      "current": getattr(complaint, head),
                      "options": _decision_options(taxonomy, head, data["alternatives"])})
    opd = taxonomy.labels["opd"].get(suggestion["opd"]["code"])
    focal = (opd.focal_point if opd and opd.focal_point else None) or suggestion["opd"].get("focal_point")
    if focal is not None and not isinstance(focal, dict):
        focal = {"name": focal.name, "phone": focal.phone, "email": focal.email}
    decisions = [{"decision": d, "names": {h: taxonomy.name_of(h, getattr(d, h)) for h in HEADS}}
                 for d in history(db, complaint.id)]
    return {"complaint": complaint, "heads": heads, "focal_point": focal, "decisions": decisions,
            "segments": highlight(complaint.text, explanation, stems),
            "suggestion": suggestion}


def _decision_options(taxonomy: Taxonomy, head: str,
                      alternatives: list[dict]) -> dict[str, list[tuple[str, str]]]:
    """The codes of ``head`` for the correction select: the model's candidates, then the rest by name."""
    labels = taxonomy.labels[head]
    suggested = [a["code"] for a in alternatives if a["code"] in labels]
    rest = sorted((c for c in labels if c not in suggested), key=lambda c: labels[c].name)
    return {"suggested": [(c, taxonomy.labels[head][c].name) for c in suggested],
            "rest": [(c, taxonomy.labels[head][c].name) for c in rest]}


def _options(taxonomy: Taxonomy) -> dict[str, list[tuple[str, str]]]:
    """Codes and names of each head, sorted by name, for the filter selects."""
    return {h: sorted(((c, label.name) for c, label in taxonomy.labels[h].items()), key=lambda p: p[1])
            for h in HEADS}
