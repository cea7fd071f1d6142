"""Full-text search over complaint texts: the same answers on SQLite (FTS5) and PostgreSQL (tsvector),
through the library and ``GET /v1/complaints?q=``; complaints stored before the migration are found too."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from triage.complaints import ComplaintFilter, NewComplaint, enqueue_complaints, list_complaints
from triage.db import Complaint, make_engine, make_sessions, upgrade
from triage.errors import InvalidInputError
from triage.search import matches
from triage.settings import PROJECT_ROOT
from triage.suggest import Suggester

TEXTS = {
    "road": "Jalan poros di Desa Loa Kulu rusak berlubang besar, sudah enam bulan tidak diperbaiki.",
    "water": "Air PDAM di Kelurahan Melayu mati tiga hari, tagihan tetap datang penuh.",
    "lamp": "Lampu jalan di depan pasar Tenggarong mati, JALANAN gelap dan rawan.",
    "permit": "Mengurus akta kelahiran di Disdukcapil diminta bayar Rp200rb supaya cepat.",
}


@pytest.fixture(scope="module")
def suggester() -> Suggester:
    return Suggester.from_registry(PROJECT_ROOT / "models", "kukar")


@pytest.fixture
def stored(db, suggester) -> dict[str, int]:
    """The four complaints above, by name -> id."""
    rows = [(NewComplaint(text=t, external_id=name), suggester.suggest(t)) for name, t in TEXTS.items()]
    enqueue_complaints(db, rows)
    ids = {name: db.scalar(text("SELECT id FROM complaints WHERE external_id = :e"), {"e": name})
           for name in TEXTS}
    db.rollback()  # end the read (on SQLite it holds the write lock)
    return ids


def found(db, q: str, **where) -> set[int]:
    items, total = list_complaints(db, ComplaintFilter(q=q, **where), limit=50)
    assert total == len(items)
    db.rollback()
    return {c.id for c in items}


def test_every_word_must_be_in_the_text_as_a_word_or_the_start_of_one(db, stored):
    assert found(db, "mati") == {stored["water"], stored["lamp"]}
    assert found(db, "jalan") == {stored["road"], stored["lamp"]}  # "jalan" and the start of "JALANAN"
    assert found(db, "jalan mati") == {stored["lamp"]}
    assert found(db, "AIR pdam") == {stored["water"]}
    assert found(db, "rp200rb") == {stored["permit"]}
    assert found(db, "kereta") == set()


def test_typed_operators_and_punctuation_are_words_not_syntax(db, stored):
    assert found(db, 'jalan" OR -mati*') == set()  # "or" is a word to find here, and no text has it
    assert found(db, '"lampu" (pasar) -gelap* NEAR') == set()
    assert found(db, '"lampu" (pasar) -gelap*') == {stored["lamp"]}
    assert found(db, "loa-kulu!") == {stored["road"]}


def test_search_combines_with_the_other_filters(db, stored):
    assert found(db, "mati", status="pending") == {stored["water"], stored["lamp"]}
    assert found(db, "mati", status="decided") == set()


def test_a_search_without_letters_or_digits_is_refused_with_a_message(db):
    with pytest.raises(InvalidInputError, match="tidak berisi huruf atau angka"):
        list_complaints(db, ComplaintFilter(q="*** ???"))


def test_a_new_complaint_is_searchable_at_once_and_a_deleted_one_is_gone(db, stored, suggester):
    enqueue_complaints(db, [(NewComplaint(text="Sampah menumpuk di pasar Loa Janan."),
                             suggester.suggest("Sampah menumpuk"))])
    assert len(found(db, "sampah")) == 1
    db.execute(text("DELETE FROM complaints WHERE id = :i"), {"i": stored["lamp"]})
    db.commit()
    assert found(db, "lampu") == set()


def test_the_api_searches_with_q(client, handler, stored):
    response = client.get("/v1/complaints", params={"q": "mati tagihan"}, headers=handler.headers)
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["items"]] == [stored["water"]]

    refused = client.get("/v1/complaints", params={"q": "!!!"}, headers=handler.headers)
    assert refused.status_code == 422
    assert "tidak berisi huruf atau angka" in refused.json()["message"]


def test_the_migration_indexes_complaints_stored_before_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:  # the columns of revision 0001 only: later ones do not exist yet
            connection.execute(text(
                "INSERT INTO complaints (text, received_at, created_at, status, revisions, model_version, "
                "suggestion, needs_review, min_confidence, suggested_category, suggested_opd, "
                "suggested_maladministration, category_confidence, opd_confidence, maladministration_confidence, "
                "category, opd, maladministration) VALUES (:text, '2026-11-02 08:00:00', '2026-11-02 08:00:00', "
                "'pending', 0, 'kukar-seed', '{}', 0, 0.9, 'air_bersih', 'pdam', 'bukan_maladministrasi', "
                "0.9, 0.9, 0.9, 'air_bersih', 'pdam', 'bukan_maladministrasi')"), {"text": TEXTS["water"]})
        upgrade(url)
        with make_sessions(engine)() as session:
            assert len(found(session, "pdam")) == 1
    finally:
        engine.dispose()


def test_postgresql_answers_a_search_from_its_gin_index(db, stored, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the GIN index is PostgreSQL's; SQLite searches its FTS5 table")
    db.execute(text("SET LOCAL enable_seqscan = off"))
    statement = select(Complaint.id).where(matches("jalan mati"))
    compiled = statement.compile(db.get_bind(), compile_kwargs={"literal_binds": True})
    plan = "\n".join(row[0] for row in db.execute(text(f"EXPLAIN {compiled}")))
    db.rollback()
    assert "ix_complaints_text_fts" in plan
