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
ROAD = {"category": "infrastruktur", "opd": "dpupr", "maladministration": "penundaan_berlarut"}
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
