"""Bad input gets a 4xx with a message in Bahasa Indonesia and a machine-readable detail, never a 500."""

from __future__ import annotations

import pytest

from triage.taxonomy import HEADS


def assert_error(response, status: int, error: str, *words: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert isinstance(body["detail"], list) and body["detail"]
    for word in words:
        assert word in body["message"]
    return body


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_or_blank_text_is_refused(client, handler, text):
    response = client.post("/v1/complaints", json={"text": text}, headers=handler.headers)

    assert_error(response, 422, "invalid_input", "Teks pengaduan kosong")


@pytest.mark.parametrize("text", ["!!!", "0812 3456 7890", "12345"])
def test_text_without_a_single_letter_is_refused_as_batch_jobs_refuse_it(client, handler, text):
    response = client.post("/v1/complaints", json={"text": text}, headers=handler.headers)

    assert_error(response, 422, "invalid_input", "tidak berisi huruf")


def test_text_over_the_limit_is_refused_naming_the_limit(client, handler, settings):
    response = client.post("/v1/complaints", json={"text": "jalan rusak " * 200}, headers=handler.headers)

    assert_error(response, 422, "invalid_input", "terlalu panjang", str(settings.max_text_chars))


def test_malformed_json_is_a_400(client, handler):
    response = client.post("/v1/complaints", content=b'{"text": "jalan rusak",',
                           headers=handler.headers | {"Content-Type": "application/json"})

    assert_error(response, 400, "invalid_json", "bukan JSON yang sah")


@pytest.mark.parametrize("body, field, words", [
    ({"text": 42}, "text", "harus berupa teks"),
    ({"text": ["jalan"]}, "text", "harus berupa teks"),
    ({"text": "jalan rusak", "channel": "fax"}, "channel", "harus salah satu dari"),
    ({"text": "jalan rusak", "received_at": "kemarin"}, "received_at", "ISO 8601"),
    ({"txt": "jalan rusak"}, "text", "wajib diisi"),
])
def test_wrong_json_types_and_fields_name_the_field(client, handler, body, field, words):
    response = client.post("/v1/complaints", json=body, headers=handler.headers)

    body = assert_error(response, 422, "validation", f"'{field}'", words)
    assert any(item["loc"][-1] == field for item in body["detail"])


def test_a_body_that_is_not_an_object_is_refused(client, handler):
    response = client.post("/v1/complaints", json=["jalan rusak"], headers=handler.headers)

    assert_error(response, 422, "validation", "objek JSON")


def test_unknown_codes_in_a_decision_are_refused_and_nothing_is_stored(client, handler, complaint):
    codes = {h: complaint["suggestion"][h]["code"] for h in HEADS}
    url = f"/v1/complaints/{complaint['id']}/decisions"

    response = client.post(url, json=codes | {"opd": "dinas_pu"}, headers=handler.headers)

    body = assert_error(response, 422, "unknown_code", "Kode OPD 'dinas_pu' tidak dikenal", "/v1/taxonomy")
    assert body["detail"][0]["loc"] == ["body", "opd"]
    assert client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers).json()["decisions"] == []


def test_a_decision_missing_a_head_is_refused(client, handler, complaint):
    response = client.post(f"/v1/complaints/{complaint['id']}/decisions", json={"category": "kesehatan"},
                           headers=handler.headers)

    body = assert_error(response, 422, "validation", "'opd' wajib diisi", "'maladministration' wajib diisi")
    assert {tuple(item["loc"]) for item in body["detail"]} == {("body", "opd"), ("body", "maladministration")}


def test_an_unknown_complaint_is_a_404(client, handler):
    assert_error(client.get("/v1/complaints/424242", headers=handler.headers), 404, "not_found", "424242",
                 "tidak ditemukan")
    decision = {"category": "kesehatan", "opd": "dinkes", "maladministration": "bukan_maladministrasi"}
    assert_error(client.post("/v1/complaints/424242/decisions", json=decision, headers=handler.headers),
                 404, "not_found", "424242")


def test_a_complaint_id_that_is_not_a_number_is_refused(client, handler):
    assert_error(client.get("/v1/complaints/abc", headers=handler.headers), 422, "validation", "bilangan bulat")


@pytest.mark.parametrize("params, words", [
    ({"limit": 0}, "'limit' harus paling sedikit 1"),
    ({"limit": 1000}, "'limit' harus paling banyak 200"),
    ({"status": "selesai"}, "'status' harus salah satu dari"),
    ({"order": "random"}, "'order' harus salah satu dari"),
    ({"date_from": "23-11-2026"}, "YYYY-MM-DD"),
    ({"needs_review": "mungkin"}, "true atau false"),
])
def test_bad_list_parameters_are_refused(client, handler, params, words):
    assert_error(client.get("/v1/complaints", params=params, headers=handler.headers), 422, "validation", words)


def test_a_date_range_backwards_is_refused(client, handler):
    response = client.get("/v1/complaints", params={"date_from": "2026-11-20", "date_to": "2026-11-01"},
                          headers=handler.headers)

    assert_error(response, 422, "invalid_input", "Rentang tanggal terbalik")


def test_an_unknown_address_is_a_404_in_indonesian(client, handler):
    assert_error(client.get("/v1/keluhan", headers=handler.headers), 404, "http_404", "tidak ditemukan")


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(client, handler, settings):
    huge = b'{"text": "' + b"a" * (settings.max_text_chars * 12 + 70_000) + b'"}'

    response = client.post("/v1/complaints", content=huge,
                           headers=handler.headers | {"Content-Type": "application/json"})

    assert_error(response, 413, "too_large", "terlalu besar")


@pytest.mark.parametrize("path", ["/v1/complaints/99999999999999999999", "/v1/complaints?offset=99999999999999999999",
                                  "/v1/complaints?date_to=9999-12-31", "/v1/complaints?date_from=1900-01-01"])
def test_absurd_ids_offsets_and_dates_get_a_4xx_not_a_500(client, handler, path):
    response = client.get(path, headers=handler.headers)
    assert 400 <= response.status_code < 500 or (response.status_code == 200 and "offset" in path), response.text


@pytest.mark.parametrize("escaped", ["\\ud800 jalan rusak", "jalan\\u0000rusak"])
def test_text_no_database_can_store_is_refused_in_indonesian(client, handler, escaped):
    """A lone UTF-16 surrogate or a NUL, as JSON escapes (what a broken gateway sends)."""
    response = client.post("/v1/complaints", content=f'{{"text": "{escaped}"}}'.encode(),
                           headers=handler.headers | {"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "karakter yang tidak sah" in response.json()["message"]
