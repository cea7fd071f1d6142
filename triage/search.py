"""Full-text search over complaint texts: one query interface on SQLite (FTS5) and PostgreSQL (tsvector).

A search is a few words. A complaint matches when its text holds every one of them, each as a whole word
or as the start of one (``jalan rusak`` finds "Jalan poros ... rusaknya"), ignoring case. Punctuation
and operators typed into the box are ignored: a handler cannot write a query the database rejects.

:func:`matches` is a condition on :class:`~triage.db.Complaint` that compiles to each database's own
full-text search, so :func:`triage.complaints.list_complaints` (the queue page and ``GET
/v1/complaints?q=``) combines it with the other filters and orders:

* SQLite: the FTS5 table ``complaints_fts`` (external content on ``complaints``, kept in step by
  triggers; tokenizer ``unicode61``), ``complaints.id IN (SELECT rowid ... MATCH '"jalan"* AND "rusak"*')``.
* PostgreSQL: ``to_tsvector('simple', text) @@ to_tsquery('simple', 'jalan:* & rusak:*')``, served by the
  GIN index ``ix_complaints_text_fts`` on the same expression.

Both are made by migration ``0002`` (which indexes the complaints already stored). Neither stems: the
``simple`` configuration and ``unicode61`` only lower-case, so both find the same complaints.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import BindParameter, ColumnElement
from sqlalchemy.types import Boolean, String

from triage.errors import InvalidInputError

MAX_WORDS = 12
MAX_QUERY_CHARS = 200
FTS_TABLE = "complaints_fts"
PG_INDEX = "ix_complaints_text_fts"
_WORD = re.compile(r"[^\W_]+")


def words(query: str) -> list[str]:
    """The words of ``query``, lower-cased, in order, without repeats.

    :class:`InvalidInputError` when the query is too long or holds no letter or digit at all.
    """
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInputError(f"Kata pencarian terlalu panjang: {len(query)} karakter, batasnya "
                                f"{MAX_QUERY_CHARS}. Cari dengan beberapa kata kunci saja.")
    found = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    if not found:
        raise InvalidInputError(f"Pencarian '{query.strip()}' tidak berisi huruf atau angka. Tulis kata yang "
                                "ada di isi pengaduan, misalnya: jalan rusak.")
    if len(found) > MAX_WORDS:
        raise InvalidInputError(f"Pencarian berisi {len(found)} kata; paling banyak {MAX_WORDS}. "
                                "Kurangi kata kuncinya.")
    return found


class TextMatch(ColumnElement[bool]):
    """``complaints.text`` holds every word of a search (compiled per database, see the module)."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, query: str) -> None:
        self.words = words(query)


def matches(query: str) -> TextMatch:
    """The condition "the complaint's text holds every word of ``query``" for a ``select`` of complaints."""
    return TextMatch(query)


@compiles(TextMatch, "sqlite")
def _sqlite(element: TextMatch, compiler: Any, **kw: Any) -> str:
    expression = " AND ".join(f'"{w}"*' for w in element.words)
    bound = compiler.process(_literal(expression), **kw)
    return f"complaints.id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH {bound})"


@compiles(TextMatch, "postgresql")
def _postgresql(element: TextMatch, compiler: Any, **kw: Any) -> str:
    expression = " & ".join(f"{w}:*" for w in element.words)
    bound = compiler.process(_literal(expression), **kw)
    return f"to_tsvector('simple'::regconfig, complaints.text) @@ to_tsquery('simple'::regconfig, {bound})"


@compiles(TextMatch)
def _other(element: TextMatch, compiler: Any, **kw: Any) -> str:
    raise NotImplementedError(f"full-text search is implemented for SQLite and PostgreSQL, not "
                              f"{compiler.dialect.name}")


def _literal(value: str) -> BindParameter:
    return bindparam(None, value, type_=String(), unique=True)
