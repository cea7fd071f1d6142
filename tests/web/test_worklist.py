"""End-to-end in chromium: the dense queue, bulk confirmation and its undo, search, saved filters, presence
and the conflict of a decision on a complaint decided meanwhile."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.web.conftest import DESKTOP, PHONE, SCREENSHOTS, Live, browser_sign_in
from triage.settings import PROJECT_ROOT

pytestmark = pytest.mark.browser


def seed(live: Live, n: int) -> list[dict]:
    """``n`` complaints of the seed test split, received a minute apart (the first is the oldest)."""
    path = PROJECT_ROOT / "training_data" / "kukar" / "test.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:n]]
    start = datetime.now(timezone.utc) - timedelta(hours=2)
    stored = []
    with live.api() as api:
        for i, record in enumerate(records):
            response = api.post("/v1/complaints", headers=live.handler.headers, json={
                "text": record["text"], "channel": "lapor", "received_at": (start + timedelta(minutes=i)).isoformat()})
            assert response.status_code == 201, response.text
            stored.append(response.json())
    return stored


def read(live: Live, complaint_id: int) -> dict:
    with live.api() as api:
        return api.get(f"/v1/complaints/{complaint_id}", headers=live.handler.headers).json()


def visible_rows(page) -> int:
    """Rows of the queue wholly inside the window, as first shown (no scrolling)."""
    return page.evaluate("""() => [...document.querySelectorAll('table.queue tbody tr')].filter(row => {
        const box = row.getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0; }).length""")


def test_a_laptop_screen_shows_at_least_15_rows_each_with_three_suggestions_and_confidences(live, context_factory):
    stored = seed(live, 30)
    page = context_factory(DESKTOP).new_page()
    browser_sign_in(page, live, live.handler)

    assert visible_rows(page) >= 15
    first = page.locator("table.queue tbody tr").first
    newest = stored[-1]
    preview = first.locator("a.row-link").inner_text().rstrip("…")
    assert len(preview) >= 40 and " ".join(newest["text"].split()).startswith(preview)
    cells = first.locator("td.head-cell")
    assert cells.count() == 3
    for cell, head in zip(cells.all(), ("category", "opd", "maladministration")):
        suggestion = newest["suggestion"][head]
        assert suggestion["name"] in cell.inner_text()
        assert re.search(r"\d+%", cell.inner_text())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "queue-dense-1366x768.png")
    phone = context_factory(PHONE).new_page()
    browser_sign_in(phone, live, live.handler)
    assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    phone.screenshot(path=SCREENSHOTS / "queue-dense-390x844.png")


def test_confident_rows_are_confirmed_in_bulk_each_as_a_revision_and_undone_at_once(live, context_factory):
    stored = seed(live, 12)
    confident = {c["id"] for c in stored  # forwarding outside the pemda is never confirmed in bulk
                 if not c["suggestion"]["needs_review"] and not c["suggestion"]["opd"]["outside"]}
    flagged = {c["id"] for c in stored} - confident
    assert confident and flagged, "the sample needs both kinds of complaint"
    page = context_factory(DESKTOP).new_page()
    browser_sign_in(page, live, live.handler)

    assert page.locator("input[data-confident]").count() == len(confident)  # flagged rows have no tick box
    page.get_by_label(re.compile("Pilih semua yang yakin")).check()
    assert page.locator("[data-bulk-count]").inner_text() == str(len(confident))
    page.get_by_role("button", name=re.compile("Konfirmasi terpilih")).click()
    page.wait_for_url(re.compile(r"massal=\d+"))
    assert f"{len(confident)} pengaduan dikonfirmasi sekaligus" in page.locator(".batch-note").inner_text()

    for complaint_id in confident:
        complaint = read(live, complaint_id)
        assert complaint["status"] == "decided" and len(complaint["decisions"]) == 1
        assert all(complaint["decisions"][0]["kept"].values())
        assert complaint["decisions"][0]["decided_by"] == live.handler.name
    assert all(read(live, i)["status"] == "pending" for i in flagged)

    page.get_by_role("button", name="Batalkan konfirmasi massal ini").click()
    page.wait_for_url(re.compile(r"batal=\d+"))
    assert f"{len(confident)} pengaduan dikembalikan" in page.locator(".batch-note").inner_text()
    for complaint_id in confident:
        complaint = read(live, complaint_id)
        assert complaint["status"] == "pending" and len(complaint["decisions"]) == 1  # history kept
    assert page.locator("input[data-confident]").count() == len(confident)  # back in the queue
    some = min(confident)
    page.goto(f"{live.url}/pengaduan/{some}")
    assert "dibatalkan" in page.locator(".history").inner_text()


def test_search_narrows_the_queue_and_a_saved_filter_brings_it_back(live, context_factory):
    stored = seed(live, 30)
    word = "puskesmas"
    expected = {c["id"] for c in stored if re.search(rf"\b{word}", c["text"], re.IGNORECASE)}
    assert 0 < len(expected) < len(stored)
    page = context_factory(DESKTOP).new_page()
    browser_sign_in(page, live, live.handler)

    page.keyboard.press("/")
    page.keyboard.type(word)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=puskesmas"))
    shown = {int(t.strip("#")) for t in page.locator("table.queue tbody td:nth-child(2)").all_inner_texts()}
    assert shown == expected

    page.get_by_text("Simpan penyaring ini").click()
    page.get_by_label("Nama penyaring").fill("Puskesmas")
    page.get_by_role("button", name="Simpan", exact=True).click()
    assert "Penyaring 'Puskesmas' tersimpan." in page.get_by_role("status").first.inner_text()

    page.goto(f"{live.url}/antrean")
    assert page.locator("table.queue tbody tr").count() == min(len(stored), 50)
    page.locator(".saved").get_by_role("link", name="Puskesmas").click()
    page.wait_for_url(re.compile(r"q=puskesmas"))
    assert page.locator("table.queue tbody tr").count() == len(expected)

    other = context_factory(DESKTOP).new_page()  # saved per key: the admin does not see it
    browser_sign_in(other, live, live.admin)
    assert other.locator(".saved").get_by_role("link", name="Puskesmas").count() == 0

    page.get_by_role("button", name="Hapus penyaring Puskesmas").click()
    assert "Penyaring 'Puskesmas' dihapus." in page.get_by_role("status").first.inner_text()
    assert page.locator(".saved").get_by_role("link", name="Puskesmas").count() == 0


def test_others_see_who_has_a_complaint_open_and_a_late_decision_is_told_what_happened(live, context_factory):
    complaint = seed(live, 3)[0]
    siti = context_factory(DESKTOP).new_page()
    browser_sign_in(siti, live, live.handler)
    budi = context_factory(DESKTOP).new_page()
    browser_sign_in(budi, live, live.admin)

    siti.goto(f"{live.url}/pengaduan/{complaint['id']}")
    budi.goto(f"{live.url}/antrean")
    row = budi.locator("table.queue tbody tr", has_text=f"#{complaint['id']}")
    assert f"sedang dibuka oleh {live.handler.name}" in row.inner_text()
    budi.goto(f"{live.url}/pengaduan/{complaint['id']}")
    assert f"sedang dibuka oleh {live.handler.name}" in budi.locator(".presence").inner_text()
    assert siti.locator(".presence").count() == 0  # opened first: nobody else had it then

    # budi corrects it; siti, still on the page she opened before, confirms the suggestion.
    other = "dinsos" if complaint["suggestion"]["opd"]["code"] != "dinsos" else "dishub"
    budi.locator("#koreksi-opd").select_option(other)
    budi.get_by_role("button", name="Simpan koreksi", exact=True).click()
    budi.wait_for_load_state()
    siti.get_by_role("button", name="Konfirmasi saran").click()
    siti.wait_for_load_state()

    alert = siti.get_by_role("alert")
    assert "Keputusan Anda belum disimpan" in alert.inner_text()
    assert f"{live.admin.name} sudah memutuskan pengaduan ini" in alert.inner_text()
    assert [d["decided_by"] for d in read(live, complaint["id"])["decisions"]] == [live.admin.name]

    alert.get_by_role("button", name="Tetap simpan keputusan saya sebagai revisi baru").click()
    siti.wait_for_load_state()
    decisions = read(live, complaint["id"])["decisions"]
    assert [(d["revision"], d["decided_by"], d["opd"]) for d in decisions] == [
        (1, live.admin.name, other), (2, live.handler.name, complaint["suggestion"]["opd"]["code"])]
