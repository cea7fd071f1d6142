"""The lifecycle on the web pages: the complaint page's timeline and handler steps, the queue's stage and
overdue filters and its archive form, the focal points' page with its role checks on the server, and the
monthly report with its CSV. Real app, real database (SQLite and PostgreSQL), through the forms."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.web.conftest import csrf_of

from .conftest import CLINIC, ROAD, intake, route, step

WITA = ZoneInfo("Asia/Makassar")


def sign_in(client, key, next: str = "/antrean"):
    form = client.get("/masuk")
    response = client.post("/masuk", data={"api_key": key.token, "csrf": csrf_of(form.text), "next": next},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def csrf(client, path: str) -> str:
    return csrf_of(client.get(path).text)


def test_the_complaint_page_shows_the_timeline_and_a_handler_archives_a_duplicate_which_leaves_the_queue(
        client, handler, focal):
    original, duplicate = intake(client, handler), intake(client, handler)
    sign_in(client, handler)
    assert f"#{duplicate}" in client.get("/antrean").text

    token = csrf(client, f"/pengaduan/{duplicate}")
    response = client.post("/tindakan", data={"csrf": token, "nomor": str(duplicate), "action": "archive",
                                              "reason": "duplicate", "duplicate_of": str(original),
                                              "note": "Dilaporkan dua kali lewat SMS.",
                                              "kembali": f"/pengaduan/{duplicate}"}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert f"Pengaduan #{duplicate} diarsipkan." in page
    assert 'data-stage="archived"' in page and "Diarsipkan</strong> oleh siti" in page
    assert f"Alasan: duplikat dari #{original}" in page and "Dilaporkan dua kali lewat SMS." in page
    assert "Buka kembali" in page  # the step possible now
    queue = client.get("/antrean").text  # archived before routing: no longer waiting for a decision
    assert f'href="/pengaduan/{duplicate}' not in queue and f'href="/pengaduan/{original}' in queue
    everything = client.get("/antrean", params={"status": "semua", "tahap": "archived"}).text
    assert f'href="/pengaduan/{duplicate}' in everything and f'href="/pengaduan/{original}' not in everything

    # A forward without its destination is refused in Indonesian; nothing changes.
    refused = client.post("/tindakan", data={"csrf": token, "nomor": str(original), "action": "forward"})
    assert refused.status_code == 422 and "Tujuan penerusan wajib diisi" in refused.text
    # Settling is the focal point's: a handler's key is refused on the server.
    route(client, handler, original)
    refused = client.post("/tindakan", data={"csrf": token, "nomor": str(original), "action": "settle",
                                             "reply": "Sudah."})
    assert refused.status_code == 403 and "hanya untuk focal point" in refused.text


def test_the_queue_archives_with_a_reason_and_shows_overdue_complaints(client, handler, time_machine):
    time_machine.move_to(datetime(2026, 3, 13, 10, 0, tzinfo=WITA), tick=False)  # Friday before Nyepi
    late, spam = intake(client, handler), intake(client, handler, CLINIC)
    time_machine.move_to(datetime(2026, 3, 24, 9, 0, tzinfo=WITA), tick=False)  # route deadline long past
    fresh = intake(client, handler)
    sign_in(client, handler)
    queue = client.get("/antrean").text
    row = re.search(rf'<tr data-row[^>]*>(?:(?!</tr>).)*href="/pengaduan/{late}[^"]*"(?:(?!</tr>).)*</tr>', queue, re.S)
    assert row and "data-overdue" in row.group(0)
    fresh_row = re.search(rf'<tr data-row[^>]*>(?:(?!</tr>).)*href="/pengaduan/{fresh}[^"]*"(?:(?!</tr>).)*</tr>',
                          queue, re.S)
    assert fresh_row and "data-overdue" not in fresh_row.group(0)
    overdue = client.get("/antrean", params={"terlambat": "ya"}).text
    assert f'href="/pengaduan/{late}' in overdue and f'href="/pengaduan/{fresh}' not in overdue

    token = csrf_of(queue)
    response = client.post("/tindakan", data={"csrf": token, "nomor": f"#{spam}", "action": "archive",
                                              "reason": "spam", "kembali": "/antrean?terlambat=ya"},
                           follow_redirects=False)
    assert response.headers["location"].startswith("/antrean?terlambat=ya&")
    after = client.get(response.headers["location"]).text
    assert f"Pengaduan #{spam} diarsipkan." in after and f'href="/pengaduan/{spam}' not in after
    unknown = client.post("/tindakan", data={"csrf": token, "nomor": str(late), "action": "archive",
                                             "reason": "lainnya"})
    assert unknown.status_code == 422 and "Alasan pengarsipan wajib" in unknown.text


def test_a_focal_point_signs_in_to_its_opds_complaints_and_settles_one_from_the_page(
        client, handler, focal, health_focal):
    road, clinic, waiting = intake(client, handler), intake(client, handler, CLINIC), intake(client, handler)
    route(client, handler, road)  # dpupr: budi's
    route(client, handler, clinic, opd="dinkes", category="kesehatan")  # rina's

    landed = sign_in(client, focal)  # asked for the queue, sent to its own page
    assert landed.headers["location"] == "/narahubung"
    listing = client.get("/narahubung").text
    assert f'href="/narahubung/pengaduan/{road}"' in listing
    assert f"/pengaduan/{clinic}\"" not in listing and f"/pengaduan/{waiting}\"" not in listing
    assert client.get("/antrean").status_code == 403  # the handlers' pages refuse a focal point
    assert client.get(f"/pengaduan/{road}").status_code == 403
    other = client.get(f"/narahubung/pengaduan/{clinic}")
    assert other.status_code == 403 and "tidak didisposisikan ke OPD Anda" in other.text

    page = client.get(f"/narahubung/pengaduan/{road}").text
    assert ROAD[:40] in page and "Didisposisikan</strong> oleh siti" in page
    token = csrf_of(page)
    back = f"/narahubung/pengaduan/{road}"
    for action, fields in (("acknowledge", {}), ("progress", {"note": "Tim survei dijadwalkan Senin."}),
                           ("settle", {"reply": "Jalan sudah ditambal pada 20 Maret."})):
        response = client.post("/tindakan", data={"csrf": token, "nomor": str(road), "action": action,
                                                  "kembali": back, **fields}, follow_redirects=False)
        assert response.status_code == 303, response.text
    page = client.get(back).text
    assert 'data-stage="settled"' in page and "Jawaban kepada warga: Jalan sudah ditambal pada 20 Maret." in page
    assert [m for m in re.findall(r'data-action="(\w+)"', page)] == ["route", "acknowledge", "progress", "settle"]
    # Another OPD's complaint, and a handler's step, are refused on the server whatever the form says.
    refused = client.post("/tindakan", data={"csrf": token, "nomor": str(clinic), "action": "acknowledge"})
    assert refused.status_code == 403
    refused = client.post("/tindakan", data={"csrf": token, "nomor": str(road), "action": "reopen"})
    assert refused.status_code == 403 and "hanya untuk pengelola pengaduan" in refused.text
    assert client.get(f"/v1/complaints/{road}", headers=handler.headers).json()["stage"] == "settled"


def test_a_focal_point_returns_a_wrongly_routed_complaint_to_the_handlers_queue(client, handler, focal):
    clinic = intake(client, handler, CLINIC)
    route(client, handler, clinic)  # wrongly to dpupr
    sign_in(client, focal)
    token = csrf(client, f"/narahubung/pengaduan/{clinic}")
    response = client.post("/tindakan", data={"csrf": token, "nomor": str(clinic), "action": "return",
                                              "note": "Ini urusan Dinas Kesehatan."}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get(f"/narahubung/pengaduan/{clinic}").status_code == 403  # back with the handlers
    client.post("/keluar", data={"csrf": csrf(client, "/narahubung")})
    sign_in(client, handler)
    assert f'href="/pengaduan/{clinic}' in client.get("/antrean").text
    page = client.get(f"/pengaduan/{clinic}").text
    assert "Dikembalikan (salah disposisi)</strong> oleh budi" in page and "Ini urusan Dinas Kesehatan." in page


def test_the_monthly_report_page_and_its_csv(client, handler, focal, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 8, 0, tzinfo=WITA), tick=False)
    settled, archived = intake(client, handler), intake(client, handler)
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=WITA), tick=False)
    route(client, handler, settled)
    step(client, handler, archived, "archive", reason="spam")
    time_machine.move_to(datetime(2026, 3, 12, 8, 0, tzinfo=WITA), tick=False)
    step(client, focal, settled, "settle", reply="Sudah ditambal.")
    time_machine.move_to(datetime(2026, 4, 1, 8, 0, tzinfo=WITA), tick=False)
    sign_in(client, handler)

    page = client.get("/laporan", params={"bulan": "2026-03"}).text
    assert "Laporan penanganan pengaduan — Maret 2026" in page
    total = re.search(r'<tr class="total">(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", total)
    assert cells[:7] == ["2", "1", "0", "1", "0", "0", "1"]  # received, routed, in progress, settled, late, ...
    assert cells[7:] == ["2,0 / 2,0", "10,0 / 10,0", "100%", "0 (0%)"]
    csv = client.get("/laporan/laporan.csv", params={"bulan": "2026-03"})
    assert csv.headers["content-disposition"] == 'attachment; filename="laporan_pengaduan_2026-03.csv"'
    lines = csv.content.decode("utf-8").splitlines()
    assert lines[0].startswith("\ufeffKode OPD;Nama OPD;Diterima;Didisposisikan;Dalam proses;Selesai;Terlambat")
    assert lines[-1].startswith("Semua OPD;;2;1;0;1;0;0;1;0;0,0000;2,0000;2,0000;10,0000;10,0000;1,0000")
    bad = client.get("/laporan", params={"bulan": "Maret"})
    assert bad.status_code == 422 and "misalnya 2026-03" in bad.text
