"""The one place where errors become HTTP responses, with messages a handler understands (Bahasa Indonesia).

Every error body is an :class:`~triage.api.schemas.ErrorPublic`: ``message`` for people, ``error`` (a
stable kind) and ``detail`` (a list of ``{loc, type, msg}``) for programs.

    triage.errors exception        status  error
    InvalidInputError                 422  invalid_input
    UnknownCodeError                  422  unknown_code
    NotFoundError                     404  not_found
    AuthError                         401  unauthorized  (with WWW-Authenticate: Bearer)
    ForbiddenError                    403  forbidden
    ConflictError                     409  conflict
    ModelError                        503  model_unavailable
    other TriageError                 400  bad_request
    RequestValidationError            422  validation    (malformed JSON: 400 invalid_json)
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from triage.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    ModelError,
    NotFoundError,
    TriageError,
    UnknownCodeError,
)
from triage.taxonomy import HEAD_NAMES

log = logging.getLogger(__name__)

# Most specific first: the first class the exception is an instance of decides.
STATUS: list[tuple[type[TriageError], int, str]] = [
    (UnknownCodeError, 422, "unknown_code"),
    (InvalidInputError, 422, "invalid_input"),
    (NotFoundError, 404, "not_found"),
    (AuthError, 401, "unauthorized"),
    (ForbiddenError, 403, "forbidden"),
    (ConflictError, 409, "conflict"),
    (ModelError, 503, "model_unavailable"),
    (TriageError, 400, "bad_request"),
]

_HTTP_MESSAGES = {
    400: "Isi permintaan tidak bisa dibaca. Kirim satu objek JSON (UTF-8) dengan header "
         "'Content-Type: application/json'.",
    404: "Alamat tidak ditemukan. Periksa URL-nya; daftar alamat ada di /docs.",
    405: "Metode HTTP ini tidak didukung untuk alamat ini. Lihat /docs untuk metode yang benar.",
    413: "Permintaan terlalu besar.",
}


def error_body(message: str, error: str, detail: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    message = _encodable(message)
    detail = [{k: _encodable(v) if isinstance(v, str) else v for k, v in item.items()} for item in detail or []]
    return {"message": message, "error": error, "detail": detail or [{"loc": [], "type": error, "msg": message}]}


def _encodable(text: str) -> str:
    """``text`` with any lone surrogate (which a request may carry into a message) written as an escape, so
    that building the error response cannot fail."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def triage_error_response(exc: TriageError) -> JSONResponse:
    """The response for one of triage's own errors."""
    status, kind = next((s, k) for cls, s, k in STATUS if isinstance(exc, cls))
    message = str(exc)
    detail: list[dict[str, Any]] = []
    if isinstance(exc, UnknownCodeError):
        message = (f"Kode {HEAD_NAMES.get(exc.head, exc.head)} '{exc.code}' tidak dikenal. "
                   "Pilih kode dari daftar di /v1/taxonomy.")
        detail = [{"loc": ["body", exc.head], "type": kind, "msg": message}]
    elif isinstance(exc, ModelError):
        log.error("model unavailable: %s", exc)
        message = "Model saran sedang tidak tersedia. Coba lagi sebentar lagi atau hubungi admin."
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(message, kind, detail), status_code=status, headers=headers)


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """Indonesian messages for request validation errors; ``detail`` keeps pydantic's loc and type."""
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {}).get("error", "")
        message = ("Isi permintaan bukan JSON yang sah. Kirim satu objek JSON dengan header "
                   "'Content-Type: application/json'.")
        return JSONResponse(error_body(message, "invalid_json", [{"loc": ["body"], "type": "json_invalid",
                                                                  "msg": message, "reason": reason}]),
                            status_code=400)
    detail = [{"loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())], "type": e.get("type", ""),
               "msg": _message(e)} for e in errors]
    message = "Permintaan tidak valid: " + "; ".join(d["msg"] for d in detail) + "."
    return JSONResponse(error_body(message, "validation", detail), status_code=422)


def _message(error: dict[str, Any]) -> str:
    loc = [p for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = "'" + ".".join(str(p) for p in loc) + "'" if loc else "isi permintaan"
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "invalid_input":  # one of the store's own checks: a whole sentence already
        reason = str(ctx.get("reason", "")).rstrip(".")
        # a query parameter's validator does not know its name ("Nilai ..."): the location does
        return field + reason[len("Nilai"):] if loc and reason.startswith("Nilai ") else reason
    if kind == "missing":
        return f"{field} wajib diisi" if loc else "isi permintaan (objek JSON) wajib ada"
    if kind == "string_type":
        return f"{field} harus berupa teks"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{field} harus berupa bilangan bulat"
    if kind in ("bool_type", "bool_parsing"):
        return f"{field} harus true atau false"
    if kind in ("literal_error", "enum"):
        return f"{field} harus salah satu dari: {ctx.get('expected', '')}"
    if kind == "extra_forbidden":
        return f"{field} bukan kolom yang dikenal"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{field} harus berupa objek JSON"
    if kind.startswith("datetime"):
        return f"{field} harus tanggal-waktu ISO 8601, misalnya 2026-11-23T08:30:00+08:00"
    if kind.startswith("date"):
        return f"{field} harus tanggal berbentuk YYYY-MM-DD"
    if kind == "string_pattern_mismatch":
        return f"{field} tidak sesuai bentuk yang diminta (pola {ctx.get('pattern')})"
    if kind == "string_too_long":
        return f"{field} terlalu panjang (paling banyak {ctx.get('max_length')} karakter)"
    if kind == "greater_than_equal":
        return f"{field} harus paling sedikit {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"{field} harus paling banyak {ctx.get('le')}"
    return f"{field} tidak valid ({error.get('msg', kind)})"


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(TriageError)
    def _triage(request: Request, exc: TriageError) -> JSONResponse:
        return triage_error_response(exc)

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = _HTTP_MESSAGES.get(exc.status_code, f"Permintaan gagal (HTTP {exc.status_code}).")
        return JSONResponse(error_body(message, f"http_{exc.status_code}"), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("Terjadi kesalahan di server; tidak ada yang tersimpan setengah jadi. Coba "
                                       "lagi; jika berulang, hubungi admin.", "internal"), status_code=500)
