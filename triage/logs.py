"""Structured logs: one JSON object per line, and never a complaint's words or anyone's personal data.

Each line has ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and, for a line written while a
request is served, ``request_id``; an access line adds ``method``, ``route`` (the route template, never
the raw path or query), ``status``, ``duration_ms``, ``key`` (the API key's name) and ``model_version``.

What keeps personal data out:

* an exception is logged as its type, the type of the database driver's error beneath it (and its SQLSTATE),
  and where it was raised (file, line, function) - never its message, locals or the request: SQLAlchemy's
  messages embed the statement's parameters, i.e. the complaint, and drivers quote the offending value;
* every message is scrubbed of NIKs, phone numbers, e-mail addresses, API tokens and bearer credentials
  (the patterns :mod:`triage.normalise` masks complaints with), in case one slips into a message.

:func:`log_config` is the ``logging.config.dictConfig`` that ``triage serve`` hands to uvicorn.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from triage.normalise import _EMAIL, _NIK, _PHONE

REQUEST_ID: ContextVar[str | None] = ContextVar("triage_request_id", default=None)
"""The id of the request being served (set by :mod:`triage.api.observe`), on every line logged for it."""

ACCESS_FIELDS = ("method", "route", "status", "duration_ms", "key", "model_version")

_TOKEN = re.compile(r"\btrg_[\w-]+|(?i:bearer)\s+\S+")
_LONG_NUMBER = re.compile(r"\+?\d[\d \-.]{8,}\d")  # a NIK, phone or account number written with separators
_PACKAGE = Path(__file__).resolve().parent


def scrub(text: str) -> str:
    """``text`` with personal data and credentials replaced by ``[nik]``, ``[telepon]``, ``[email]``,
    ``[token]``, ``[angka]``."""
    text = _TOKEN.sub("[token]", text)
    text = _EMAIL.sub("[email]", text)
    text = _NIK.sub("[nik]", text)
    text = _PHONE.sub("[telepon]", text)
    return _LONG_NUMBER.sub("[angka]", text)


def describe(exc: BaseException) -> dict[str, Any]:
    """What may be logged of an exception: its type, the driver error's type and SQLSTATE beneath a
    SQLAlchemy error, and where it was raised (innermost frame in triage, and innermost of all)."""
    kind = type(exc)
    info: dict[str, Any] = {"type": f"{kind.__module__}.{kind.__qualname__}"}
    orig = getattr(exc, "orig", None)  # sqlalchemy.exc.DBAPIError wraps the driver's error
    if isinstance(orig, BaseException):
        info["driver_error"] = f"{type(orig).__module__}.{type(orig).__qualname__}"
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if isinstance(sqlstate, str):
            info["sqlstate"] = sqlstate
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(_PACKAGE)]
        info["where"] = _frame(frames[-1])
        if ours and ours[-1] is not frames[-1]:
            info["in_triage"] = _frame(ours[-1])
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not orig:
        info["cause"] = f"{type(cause).__module__}.{type(cause).__qualname__}"
    return info


def _frame(frame: traceback.FrameSummary) -> str:
    path = Path(frame.filename)
    for root in (_PACKAGE.parent, *(p for p in path.parents if p.name == "site-packages")):
        if path.is_relative_to(root):
            path = path.relative_to(root)
            break
    return f"{path}:{frame.lineno} in {frame.name}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record; exceptions described by :func:`describe`, messages :func:`scrub`-bed."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for field in ACCESS_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = scrub(value) if isinstance(value, str) else value
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = describe(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(access_log: bool = True, level: str = "INFO") -> dict[str, Any]:
    """Logging for ``triage serve``: everything as JSON lines on stderr; triage's own access lines (with
    route templates) instead of uvicorn's (raw paths and queries, which may carry search words)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "triage": {"handlers": ["stderr"], "level": level, "propagate": False},
            "triage.access": {"level": "INFO" if access_log else "WARNING"},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
