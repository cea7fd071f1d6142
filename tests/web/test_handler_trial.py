"""Defects found when a handler tried the pages on a real queue (issue 14), through the real app (fast tier).

Each test states what a handler must be able to rely on; the browser-only ones are in
``test_browser_handler_trial.py``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from tests.web.conftest import PU_COMPLAINT, WATER_COMPLAINT, make_app, post_complaint, sign_in
from triage.web.render import confidence, percent
from triage.web.session import COOKIE


def _decide(client, csrf: str, complaint_id: int, location_query: str, **fields) -> str:
    data = {"csrf": csrf, "action": "konfirmasi", "antrean": location_query, **fields}
    response = client.post(f"/pengaduan/{complaint_id}/keputusan", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def _queue_of(location: str) -> str:
    return parse_qs(urlsplit(location).query).get("antrean", [""])[0]


# -- 1. skipped complaints stay skipped for the pass ---------------------------------------------------------


def test_skipped_complaints_do_not_come_back_after_a_decision(client, signed_in, handler):
    made = [post_complaint(client, handler, f"{PU_COMPLAINT} (nomor {i})") for i in range(4)]
    c59, c60, c61, c62 = (c["id"] for c in made)  # newest first: 62, 61, 60, 59

    skip = client.get(f"/pengaduan/{c62}/berikutnya", follow_redirects=False).headers["location"]
    assert urlsplit(skip).path == f"/pengaduan/{c61}"
    skip = client.get(f"/pengaduan/{c61}/berikutnya", params={"antrean": _queue_of(skip)},
                      follow_redirects=False).headers["location"]
    assert urlsplit(skip).path == f"/pengaduan/{c60}"

    after_decision = _decide(client, signed_in, c60, _queue_of(skip))

    assert urlsplit(after_decision).path == f"/pengaduan/{c59}"
    # The complaint page carries the pass on: its skip link and its form still name the skipped ones.
    html = client.get(after_decision).text
    assert f'value="{_queue_of(after_decision)}"' in html
    last = _decide(client, signed_in, c59, _queue_of(after_decision))
    assert urlsplit(last).path == "/antrean"  # only skipped ones are left: the pass is over
    assert f"#{c62}" in client.get(last).text and f"#{c61}" in client.get(last).text



# -- 4. the statistics filter applies to everything on the page ----------------------------------------------

FIXED_NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
ROAD = {"category": "pekerjaan_umum", "opd": "dpupr", "maladministration": "penundaan_berlarut"}
BUS = {"category": "perhubungan", "opd": "dishub", "maladministration": "bukan_maladministrasi"}


def test_the_statistics_filter_applies_to_the_summary_the_acceptance_chart_and_its_csv(
        client, handler, admin, time_machine):
    time_machine.move_to(FIXED_NOW, tick=True)
    for text, codes in ((PU_COMPLAINT, ROAD), (PU_COMPLAINT + " Lagi.", ROAD), (WATER_COMPLAINT, BUS)):
        complaint = post_complaint(client, handler, text, received_at="2026-11-12T09:00:00+00:00")
        response = client.post(f"/v1/complaints/{complaint['id']}/decisions", json=codes,
                               headers=handler.headers)
        assert response.status_code == 201, response.text
    post_complaint(client, handler, PU_COMPLAINT + " Belum diputus.", received_at="2026-11-13T09:00:00+00:00")
    sign_in(client, admin)
    params = {"dari": "2026-11-01", "sampai": "2026-11-30", "periode": "month", "opd": "dishub"}

    html = client.get("/statistik", params=params).text
    csv_rows = client.get("/statistik/penerimaan.csv", params=params).text.lstrip("\ufeff").splitlines()

    summary = html.split('aria-label="Ringkasan"')[1].split("</ul>")[0]
    assert re.search(r'<span class="count">1</span> pengaduan', summary)
    assert re.search(r'<span class="count">0</span> menunggu keputusan', summary)
    assert re.search(r'<span class="count">1</span> keputusan petugas', summary)
    assert "(1 keputusan)" in html  # the acceptance chart's title
    table = html.split('id="h-penerimaan"')[1]
    assert re.search(r'data-label="Keputusan">1<', table)
    assert len(csv_rows) == 2 and re.split("[;,]", csv_rows[1])[1] == "1"
    everything = client.get("/statistik", params={**params, "opd": ""}).text
    assert "(3 keputusan)" in everything


# -- 5. signing out ends the session on the server -----------------------------------------------------------


def test_a_copied_cookie_stops_working_once_its_session_signed_out(client, signed_in, settings):
    copied = client.cookies[COOKIE]

    client.post("/keluar", data={"csrf": signed_in}, follow_redirects=False)
    client.cookies.set(COOKIE, copied)  # the cookie as someone copied it before the handler signed out

    response = client.get("/antrean", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/masuk")


def test_signing_out_ends_only_that_session(client, settings, handler):
    with TestClient(make_app(settings), base_url="http://testserver") as other_browser:
        sign_in(other_browser, handler)
        csrf = sign_in(client, handler)
        client.post("/keluar", data={"csrf": csrf}, follow_redirects=False)

        assert other_browser.get("/antrean", follow_redirects=False).status_code == 200


# -- 6. a session that ends during a decision loses neither the decision nor its note ------------------------


def test_a_decision_sent_after_the_session_ended_is_offered_again_after_signing_in(client, signed_in,
                                                                                   handler):
    complaint = post_complaint(client, handler, PU_COMPLAINT)
    note = "Sudah dicek ke lapangan: jalan kabupaten, bukan provinsi."
    client.cookies.clear()  # the session ran out (its cookie expired) while the handler was writing

    sent = client.post(f"/pengaduan/{complaint['id']}/keputusan", follow_redirects=False, data={
        "csrf": signed_in, "action": "koreksi", "category": "perhubungan", "opd": "dishub",
        "maladministration": "bukan_maladministrasi", "note": note, "antrean": "kanal=sms"})

    assert sent.status_code == 303 and sent.headers["location"].startswith("/masuk?")
    form = client.get(sent.headers["location"])
    assert "Sesi Anda sudah berakhir" in form.text and "belum tersimpan" in form.text
    assert client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers).json()["decisions"] == []

    next_target = re.search(r'name="next" value="([^"]+)"', form.text).group(1).replace("&amp;", "&")
    signed = client.post("/masuk", follow_redirects=False, data={
        "api_key": handler.token, "csrf": re.search(r'name="csrf" value="([^"]+)"', form.text).group(1),
        "next": next_target})
    page = client.get(signed.headers["location"])

    assert urlsplit(signed.headers["location"]).path == f"/pengaduan/{complaint['id']}"
    assert "belum tersimpan" in page.text
    assert f">{note}</textarea>" in page.text
    assert '<option value="dishub" selected>' in page.text
    assert 'name="antrean" value="kanal=sms"' in page.text


# -- 9. Indonesian pages and files, no raw JSON or field names --------------------------------------------------


def test_an_unknown_address_answers_an_indonesian_page_and_the_api_stays_json(client, signed_in, handler):
    page = client.get("/tidak-ada-di-sini")
    api = client.get("/v1/tidak-ada-di-sini", headers=handler.headers)

    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Halaman tidak ditemukan" in page.text and '"message"' not in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")


def test_opening_the_sign_out_address_offers_to_sign_out(client, signed_in):
    page = client.get("/keluar")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Keluar" in page.text and 'action="/keluar"' in page.text
    assert client.get("/antrean", follow_redirects=False).status_code == 200  # opening it signs nobody out


def test_errors_on_pages_name_fields_in_indonesian(client, signed_in):
    data = {"csrf": signed_in, "text": PU_COMPLAINT, "external_id": "LOKET-9"}
    assert client.post("/pengaduan/baru", data=data, follow_redirects=False).status_code == 303

    again = client.post("/pengaduan/baru", data=data)
    not_a_number = client.get("/pengaduan/abc")

    assert again.status_code == 409 and "Nomor tiket asal" in again.text
    assert not_a_number.status_code == 422 and "nomor pengaduan" in not_a_number.text
    for response in (again, not_a_number):
        error = re.search(r'class="error"[^>]*>([^<]*)<', response.text).group(1)
        assert "external_id" not in error and "complaint_id" not in error


def test_csv_downloads_open_in_an_indonesian_spreadsheet(client, handler, admin, time_machine):
    time_machine.move_to(FIXED_NOW, tick=True)
    for text, codes in ((PU_COMPLAINT, ROAD), (WATER_COMPLAINT, BUS), (PU_COMPLAINT + " Lagi.", BUS)):
        complaint = post_complaint(client, handler, text, received_at="2026-11-12T09:00:00+00:00")
        client.post(f"/v1/complaints/{complaint['id']}/decisions", json=codes, headers=handler.headers)
    sign_in(client, admin)
    params = {"dari": "2026-11-01", "sampai": "2026-11-30", "periode": "month"}

    for name in ("pengaduan.csv", "penerimaan.csv"):
        body = client.get(f"/statistik/{name}", params=params).content
        assert body.startswith("\ufeff".encode()), f"{name} starts with a UTF-8 byte order mark"
        header, first = body.decode("utf-8-sig").splitlines()[:2]
        assert ";" in header and "," not in header
        assert not re.search(r"category|maladministration|_rate|\bdecisions\b", header)
    acceptance = client.get("/statistik/penerimaan.csv", params=params).content.decode("utf-8-sig")
    rates = acceptance.splitlines()[1].split(";")[-3:]
    assert all(re.fullmatch(r"[01],\d{4}", rate) for rate in rates), rates


# -- 7. the explanation reads as the text, per head, with honest confidences ---------------------------------


def test_confidences_never_round_up_to_certainty():
    assert [percent(v) for v in (0.9993, 0.995, 1.0, 0.8731, 0.004, 0.0)] == [
        ">99%", ">99%", "100%", "87%", "<1%", "0%"]
    assert [confidence(v) for v in (0.9993, 1.0, 0.8731)] == [">99%", ">99%", "87%"]  # 1.0: rounded, not sure


def test_the_explanation_shows_written_words_per_head_with_a_legend_and_the_review_threshold(
        client, signed_in, handler):
    text = ("Jalan poros di Desa Loa Kulu rusak berlubang 12 titik, sudah 6 bulan tidak diperbaiki Dinas PU. "
            "Hubungi 081234567890.")
    complaint = post_complaint(client, handler, text)
    explanation = complaint["suggestion"]["explanation"]

    html = client.get(f"/pengaduan/{complaint['id']}").text

    chips = re.findall(r'<span class="term h-(\w+)">([^<]+)</span>', html)
    assert chips, "every head's deciding words are shown"
    written = set(re.findall(r"\w+", text.lower()))
    for head, chip in chips:
        assert not re.search(r"\bx(angka|url|nik|telepon|email|nama|alamat)\b", chip)
        assert set(re.findall(r"\w+", chip.lower())) <= written, f"'{chip}' is not written in the text"
    assert {head for head, _ in chips} <= set(explanation)
    legend = html.split('class="legend"')[1].split("</p>")[0]
    assert all(name in legend for name in ("Kategori", "OPD", "Bentuk maladministrasi"))
    marks = re.findall(r'<mark class="([^"]+)"', html)
    assert marks and all(re.fullmatch(r"(h-\w+ ?)+", m) for m in marks)
    assert "100% yakin" not in html
    assert len(re.findall(r"ambang tinjauan [<>]?\d+%", html)) == 3
