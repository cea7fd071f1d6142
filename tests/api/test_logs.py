"""Logs are JSON lines that never carry a complaint's words, a note, a NIK, a phone number, an e-mail address
or a token - not even in the traceback of an unexpected error - and every response names its request id."""

from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import time

import httpx
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert
from sqlalchemy.exc import IntegrityError

from triage.logs import JsonFormatter, scrub

NIK, PHONE, EMAIL = "6402011234560001", "081234567890", "warga.kukar@contoh.id"
TOKEN = "trg_Zx9AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"
SECRET_WORD, NOTE_WORD = "Saksirahasia", "Catatanrahasia"
PERSONAL = (NIK, PHONE, EMAIL, TOKEN, SECRET_WORD, NOTE_WORD)
COMPLAINT = (f"{SECRET_WORD}: jalan poros di Desa Loa Kulu rusak berlubang sudah enam bulan. NIK saya {NIK}, "
             f"hubungi {PHONE} atau {EMAIL}, kode {TOKEN}.")


def json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # fails on any line that is not one JSON object


def test_scrub_masks_personal_data_and_credentials():
    text = f"NIK {NIK} telp {PHONE} / +62 812-3456-7890 mail {EMAIL} auth Bearer abc.def {TOKEN}"

    scrubbed = scrub(text)

    assert scrubbed == ("NIK [nik] telp [telepon] / [angka] mail [email] auth [token] [token]")
    assert scrub("GET /v1/complaints/{complaint_id} 200 in 12.5 ms") == "GET /v1/complaints/{complaint_id} 200 in 12.5 ms"


def test_a_database_error_embedding_the_complaint_is_logged_as_its_type_and_place_only():
    engine = create_engine("sqlite://")
    table = Table("complaints", MetaData(), Column("id", Integer, primary_key=True), Column("text", String, unique=True))
    table.metadata.create_all(engine)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("tests.logs.database")
    log.addHandler(handler)
    log.propagate = False
    try:
        with engine.begin() as connection:
            connection.execute(insert(table).values(text=COMPLAINT))
        with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
            try:
                connection.execute(insert(table).values(text=COMPLAINT))
            except IntegrityError:
                log.exception("unexpected error on POST /v1/complaints")
                raise
    finally:
        log.removeHandler(handler)
        engine.dispose()

    assert NIK in str(raised.value)  # SQLAlchemy's message does embed the parameters...
    [entry] = json_lines(stream.getvalue())
    assert not [value for value in PERSONAL if value in stream.getvalue()]  # ...the log line does not
    assert entry["error"]["type"] == "sqlalchemy.exc.IntegrityError"
    assert entry["error"]["driver_error"] == "sqlite3.IntegrityError"
    assert entry["error"]["where"].endswith("in do_execute")  # the innermost frame, as file:line in function
    assert "in_triage" not in entry["error"]  # no frame of the triage package was involved
    assert entry["level"] == "error" and entry["message"] == "unexpected error on POST /v1/complaints"


def test_every_response_names_its_request_id(client, handler):
    given = client.get("/healthz", headers={"X-Request-ID": "loket-7.abc"})
    made = client.get("/v1/complaints", headers=handler.headers)
    refused = client.get("/healthz", headers={"X-Request-ID": f"<script>{NIK}"})

    assert given.headers["x-request-id"] == "loket-7.abc"
    assert len(made.headers["x-request-id"]) == 32
    assert refused.headers["x-request-id"] != f"<script>{NIK}" and len(refused.headers["x-request-id"]) == 32


def test_a_real_server_logs_requests_and_failures_as_json_without_personal_data(tmp_path, start_server, triage_cli):
    database = tmp_path / "triage.db"
    env = os.environ | {"TRIAGE_DATABASE_URL": f"sqlite:///{database}", "TRIAGE_MAX_TEXT_CHARS": "2000"}
    token = triage_cli("apikey", "create", "--name", "log-test", "--role", "handler", env=env).splitlines()[-1]
    base = start_server(env, workers=2, access_log=True)
    port = base.rsplit(":", 1)[1]
    key = {"Authorization": f"Bearer {token}"}

    with httpx.Client(base_url=base, timeout=30) as api:
        created = api.post("/v1/complaints", json={"text": COMPLAINT, "channel": "sms"}, headers=key)
        assert created.status_code == 201, created.text
        routed = {h: created.json()["suggestion"][h]["code"] for h in ("category", "opd", "maladministration")}
        failures = [
            api.post("/v1/complaints", json={"text": COMPLAINT * 20}, headers=key),  # too long
            api.post("/v1/complaints", content=f'{{"text": "{COMPLAINT}', headers=key | {  # not JSON
                "Content-Type": "application/json"}),
            api.post("/v1/complaints", json={"text": [COMPLAINT], "external_id": EMAIL}, headers=key),
            api.post(f"/v1/complaints/{created.json()['id']}/decisions", headers=key,
                     json={**routed, "opd": "dinas-pu2", "note": f"{NOTE_WORD} {PHONE}"}),  # unknown code
            api.get(f"/v1/complaints?opd={EMAIL}&channel={NIK}", headers=key),
            api.post("/v1/complaints", json={"text": COMPLAINT}, headers={"Authorization": f"Bearer {TOKEN}"}),
        ]
        assert all(400 <= r.status_code < 500 for r in failures), [(r.status_code, r.text) for r in failures]
        with sqlite3.connect(database) as db:  # the store breaks under the server: an unexpected error
            db.execute("ALTER TABLE complaints RENAME TO complaints_moved")
        broken = api.post("/v1/complaints", json={"text": COMPLAINT}, headers=key | {"X-Request-ID": "rusak-1"})
    assert broken.status_code == 500
    assert broken.headers["x-request-id"] == "rusak-1"

    log = tmp_path / f"server-{port}.log"
    deadline = time.monotonic() + 10  # a worker writes the access line once the response has gone out
    while '"status": 500' not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log.read_text()
    entries = json_lines(text)
    assert not [value for value in PERSONAL if value in text]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    access = [e for e in entries if e["logger"] == "triage.access"]
    stored = next(e for e in access if e["route"] == "/v1/complaints" and e["status"] == 201)
    assert stored["method"] == "POST" and stored["key"] == "log-test" and stored["model_version"] == "kukar-seed"
    assert stored["duration_ms"] > 0 and len(stored["request_id"]) == 32
    assert created.headers["x-request-id"] == stored["request_id"]
    assert {e["status"] for e in access} >= {201, 422, 400, 401, 500}
    refused = next(e for e in access if e["status"] == 401)  # refused before routing, still by its template
    assert refused["route"] == "/v1/complaints" and "key" not in refused
    [error] = [e for e in entries if "error" in e]
    assert error["request_id"] == "rusak-1" and error["level"] == "error"
    assert error["error"]["type"] == "sqlalchemy.exc.OperationalError"
    assert error["error"]["driver_error"] == "sqlite3.OperationalError"
    assert error["error"]["in_triage"].startswith("triage/")
