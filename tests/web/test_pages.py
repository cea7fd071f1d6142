"""The queue, a complaint, deciding and intake, through the real app (fast tier, no browser)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.web.conftest import PU_COMPLAINT, WATER_COMPLAINT, post_complaint
from triage.taxonomy import HEADS


def test_the_queue_lists_pending_complaints_newest_first_with_counts(client, signed_in, handler):
    first = post_complaint(client, handler, PU_COMPLAINT, channel="sms")
    second = post_complaint(client, handler, WATER_COMPLAINT, channel="wa")

    html = client.get("/antrean").text

    assert html.index(f"#{second['id']}") < html.index(f"#{first['id']}")
    assert re.search(r'<span class="count">2</span> menunggu keputusan', html)
    assert first["suggestion"]["opd"]["name"] in html


def test_queue_filters_keep_only_matching_complaints(client, signed_in, handler):
    road = post_complaint(client, handler, PU_COMPLAINT, channel="sms")
    water = post_complaint(client, handler, WATER_COMPLAINT, channel="wa")

    by_opd = client.get("/antrean", params={"opd": road["routing"]["opd"]}).text
    by_channel = client.get("/antrean", params={"kanal": "wa"}).text

    assert f"/pengaduan/{road['id']}" in by_opd and f"/pengaduan/{water['id']}" not in by_opd
    assert f"/pengaduan/{water['id']}" in by_channel and f"/pengaduan/{road['id']}" not in by_channel
    assert "Tidak ada pengaduan" in client.get("/antrean", params={"status": "decided"}).text


def test_least_certain_first_orders_by_the_lowest_confidence(client, signed_in, handler):
    made = [post_complaint(client, handler, text) for text in
            (PU_COMPLAINT, "Tolong dibantu pak, urusan saya belum jelas sampai sekarang.")]
    unsure, sure = sorted(made, key=lambda c: min(c["suggestion"][h]["confidence"] for h in HEADS))

    html = client.get("/antrean", params={"urut": "least_certain"}).text
    assert html.index(f"/pengaduan/{unsure['id']}") < html.index(f"/pengaduan/{sure['id']}")


def test_an_unknown_filter_value_is_an_error_page_in_indonesian(client, signed_in):
    response = client.get("/antrean", params={"opd": "dinas_rahasia"})

    assert response.status_code == 422
    assert "OPD &#39;dinas_rahasia&#39; tidak dikenal" in response.text


def test_complaint_text_is_escaped_everywhere(client, signed_in, handler):
    hostile = 'Jalan rusak <script>alert("x")</script> <img src=x onerror=alert(1)> di Loa Kulu'
    complaint = post_complaint(client, handler, hostile)

    for path in ("/antrean", f"/pengaduan/{complaint['id']}"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#34;" in html


def test_a_complaint_page_marks_the_explaining_words_and_shows_the_suggestion(client, signed_in, handler):
    complaint = post_complaint(client, handler, PU_COMPLAINT)

    html = client.get(f"/pengaduan/{complaint['id']}").text

    text = html.split('class="complaint-text">')[1].split("</div>")[0]
    marked = re.findall(r"<mark[^>]*>([^<]+)</mark>", text)
    assert marked and set(marked) <= set(re.findall(r"\w+", PU_COMPLAINT))
    assert complaint["suggestion"]["opd"]["name"] in html
    assert f'<option value="{complaint["routing"]["opd"]}" selected>' in html
    assert "belum diatur untuk OPD ini" in html  # the kukar taxonomy names no focal points
    assert "Belum ada keputusan" in html


def test_confirming_keeps_the_suggestion_and_goes_on_to_the_next_complaint(client, signed_in, handler):
    older = post_complaint(client, handler, WATER_COMPLAINT)
    newer = post_complaint(client, handler, PU_COMPLAINT)

    data = {"csrf": signed_in, "action": "konfirmasi", "note": "Sudah diteruskan."}
    response = client.post(f"/pengaduan/{newer['id']}/keputusan", data=data, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/pengaduan/{older['id']}?selesai={newer['id']}&aksi=konfirmasi"
    detail = client.get(f"/v1/complaints/{newer['id']}", headers=handler.headers).json()
    assert detail["decisions"][0]["kept"] == {"category": True, "opd": True, "maladministration": True}
    assert detail["decisions"][0]["note"] == "Sudah diteruskan."
    assert detail["decisions"][0]["decided_by"] == handler.name
    assert f"Pengaduan #{newer['id']} dikonfirmasi." in client.get(response.headers["location"]).text


def test_correcting_records_the_chosen_codes_and_the_history_shows_them(client, signed_in, handler):
    complaint = post_complaint(client, handler, PU_COMPLAINT)
    codes = {"category": "perhubungan", "opd": "dishub", "maladministration": "bukan_maladministrasi"}

    response = client.post(f"/pengaduan/{complaint['id']}/keputusan",
                           data={"csrf": signed_in, "action": "koreksi", **codes}, follow_redirects=False)

    # The queue is empty now: back to it.
    assert response.headers["location"] == f"/antrean?selesai={complaint['id']}&aksi=koreksi"
    decision = client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers).json()["decisions"][0]
    assert {h: decision[h] for h in codes} == codes and decision["kept"]["opd"] is False
    history = client.get(f"/pengaduan/{complaint['id']}").text.split('id="h-riwayat"')[1]
    assert "Dinas Perhubungan" in history and "dikoreksi" in history


def test_next_keeps_the_queue_filters(client, signed_in, handler):
    sms = [post_complaint(client, handler, f"{PU_COMPLAINT} ({i})", channel="sms") for i in range(2)]
    post_complaint(client, handler, WATER_COMPLAINT, channel="wa")

    response = client.get(f"/pengaduan/{sms[1]['id']}/berikutnya", params={"antrean": "kanal=sms"},
                          follow_redirects=False)

    target = urlsplit(response.headers["location"])
    assert target.path == f"/pengaduan/{sms[0]['id']}"
    assert parse_qs(target.query) == {"antrean": [f"kanal=sms&lewati={sms[1]['id']}"]}  # skipped this pass
    last = client.get(f"/pengaduan/{sms[0]['id']}/berikutnya", params={"antrean": "kanal=sms"},
                      follow_redirects=False)
    assert last.headers["location"] == "/antrean?kanal=sms&habis=1"


def test_an_unknown_code_or_complaint_is_an_error_page(client, signed_in, handler):
    complaint = post_complaint(client, handler, PU_COMPLAINT)

    bad = client.post(f"/pengaduan/{complaint['id']}/keputusan", data={
        "csrf": signed_in, "action": "koreksi", "category": "pekerjaan_umum", "opd": "dinas_rahasia",
        "maladministration": "bukan_maladministrasi"})
    missing = client.get("/pengaduan/999")

    assert bad.status_code == 422 and "Kode OPD &#39;dinas_rahasia&#39; tidak dikenal" in bad.text
    assert missing.status_code == 404 and "tidak ditemukan" in missing.text
    assert missing.headers["content-type"].startswith("text/html")


def test_intake_stores_a_desk_complaint_and_shows_its_suggestion(client, signed_in, handler):
    response = client.post("/pengaduan/baru", data={
        "csrf": signed_in, "text": WATER_COMPLAINT, "channel": "desk", "external_id": "LOKET-0001",
        "received_at": "2026-11-20T08:30", "tz_offset": "-480"}, follow_redirects=False)

    assert response.status_code == 303
    complaint_id = int(re.match(r"/pengaduan/(\d+)\?", response.headers["location"]).group(1))
    stored = client.get(f"/v1/complaints/{complaint_id}", headers=handler.headers).json()
    assert stored["channel"] == "desk" and stored["external_id"] == "LOKET-0001"
    assert stored["received_at"].startswith("2026-11-20T00:30")  # 08:30 WITA is 00:30 UTC
    assert "tersimpan dan sudah diberi saran" in client.get(response.headers["location"]).text


@pytest.mark.parametrize("fields, status, message", [
    ({"text": "   "}, 422, "Teks pengaduan kosong"),
    ({"text": "x" * 2001}, 422, "terlalu panjang"),
    ({"text": "Jalan rusak", "received_at": "kemarin"}, 422, "Waktu diterima"),
    ({"text": "Jalan rusak", "received_at": "2999-01-01T00:00"}, 422, "masa depan"),
    ({"text": "Jalan rusak", "channel": "merpati"}, 422, "Kanal &#39;merpati&#39; tidak dikenal"),
])
def test_intake_keeps_what_was_typed_and_says_what_is_wrong(client, signed_in, fields, status, message):
    response = client.post("/pengaduan/baru", data={"csrf": signed_in, **fields})

    assert response.status_code == status
    assert message in response.text
    if fields["text"].strip() and len(fields["text"]) < 100:
        assert f">{fields['text']}</textarea>" in response.text


def test_intake_refuses_a_ticket_number_stored_already(client, signed_in):
    data = {"csrf": signed_in, "text": PU_COMPLAINT, "external_id": "LOKET-7"}
    assert client.post("/pengaduan/baru", data=data, follow_redirects=False).status_code == 303

    again = client.post("/pengaduan/baru", data=data)
    assert again.status_code == 409 and "sudah tersimpan" in again.text


def test_pages_carry_security_headers(client, signed_in):
    response = client.get("/antrean")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert 'href="#isi"' in response.text and "Pintasan papan ketik" in response.text


def test_static_files_are_served(client):
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")


def test_a_page_past_the_last_says_so_and_leads_back_to_the_first(client, signed_in, handler):
    post_complaint(client, handler, PU_COMPLAINT, channel="sms")

    html = client.get("/antrean", params={"kanal": "sms", "hal": "7"}).text

    assert "Halaman 7 kosong: penyaring ini cocok dengan 1 pengaduan dalam 1 halaman" in html
    assert 'href="/antrean?kanal=sms">Buka halaman 1</a>' in html
    assert "Tidak ada pengaduan yang cocok" not in html
