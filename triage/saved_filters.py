"""Queue filters saved per API key: a name and the queue's URL query string.

The web page lists a key's saved filters above its queue; choosing one opens the queue with that query.
The query is stored as the queue normalises it (:class:`triage.web.queue.QueueQuery`), so a saved filter
never holds a value the queue would refuse.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage.complaints import check_storable
from triage.db import SavedFilter, utcnow
from triage.errors import ConflictError, InvalidInputError, NotFoundError

NAME_MAX = 80
MAX_PER_KEY = 30


def saved_filters(session: Session, key_id: int) -> list[SavedFilter]:
    """The filters key ``key_id`` saved, by name."""
    return list(session.scalars(select(SavedFilter).where(SavedFilter.api_key_id == key_id)
                                .order_by(SavedFilter.name, SavedFilter.id)))


def save_filter(session: Session, key_id: int, name: str, query: str) -> SavedFilter:
    """Save ``query`` (a queue URL query string, already normalised) as ``name`` for key ``key_id``; commits.

    :class:`InvalidInputError` for an empty or too long name or too many filters, :class:`ConflictError`
    when the key has a filter of that name already.
    """
    name = " ".join(check_storable(name, "Nama penyaring").split())
    if not name:
        raise InvalidInputError("Nama penyaring kosong. Beri nama yang mudah dikenali, misalnya "
                                "'Dinkes perlu ditinjau'.")
    if len(name) > NAME_MAX:
        raise InvalidInputError(f"Nama penyaring terlalu panjang: {len(name)} karakter, batasnya {NAME_MAX}.")
    if len(saved_filters(session, key_id)) >= MAX_PER_KEY:
        raise InvalidInputError(f"Sudah ada {MAX_PER_KEY} penyaring tersimpan, batasnya. Hapus yang tidak "
                                "dipakai lagi dulu.")
    saved = SavedFilter(api_key_id=key_id, name=name, query=query, created_at=utcnow())
    session.add(saved)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"Penyaring bernama '{name}' sudah ada. Pilih nama lain atau hapus yang lama "
                            "dulu.") from None
    return saved


def delete_filter(session: Session, key_id: int, filter_id: int) -> str:
    """Delete key ``key_id``'s saved filter ``filter_id``; returns its name. Commits.

    :class:`NotFoundError` if the key has no such filter (another key's filters are not its to delete).
    """
    saved = session.get(SavedFilter, filter_id) if 0 < filter_id < 2**31 else None
    if saved is None or saved.api_key_id != key_id:
        raise NotFoundError(f"Penyaring tersimpan #{filter_id} tidak ditemukan di daftar Anda. Muat ulang "
                            "antreannya.")
    name = saved.name
    session.delete(saved)
    session.commit()
    return name
