"""End-to-end in chromium (issue 16): a complaint's timeline and a handler's step from its page, an overdue
complaint marked in the queue, a focal point's page from sign-in to settled, and the monthly report in print.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.api.conftest import Key
from tests.web.conftest import PU_COMPLAINT, SCREENSHOTS, WATER_COMPLAINT, Live, browser_sign_in
from triage.apikeys import create_key
from triage.db import make_engine, make_sessions

pytestmark = pytest.mark.browser


def focal_key(live: Live, name: str = "budi-dpupr", opds: tuple[str, ...] = ("dpupr",)) -> Key:
    engine = make_engine(live.database_url)
    try:
        with make_sessions(engine)() as session:
            key, token = create_key(session, name, "focal_point", opds)
            return Key(key.name, token)
    finally:
        engine.dispose()


def create_and_route(live: Live, text: str = PU_COMPLAINT, **fields) -> int:
    with live.api() as api:
        created = api.post("/v1/complaints", json={"text": text, **fields}, headers=live.handler.headers)
        assert created.status_code == 201, created.text
        complaint_id = created.json()["id"]
        routed = api.post(f"/v1/complaints/{complaint_id}/decisions", headers=live.handler.headers,
                          json={"category": "pekerjaan_umum", "opd": "dpupr",
                                "maladministration": "penundaan_berlarut"})
        assert routed.status_code == 201, routed.text
    return complaint_id


def test_the_complaint_page_shows_the_timeline_and_forwards_from_the_page(live, context_factory):
    complaint_id = create_and_route(live)
    page = context_factory().new_page()
    browser_sign_in(page, live, live.handler)
    page.goto(f"{live.url}/pengaduan/{complaint_id}")
    timeline = page.get_by_role("list", name="Linimasa")
    assert timeline.locator("li").count() == 2
    assert "Didisposisikan oleh siti-handler" in " ".join(timeline.inner_text().split())
    assert page.locator("[data-stage]").inner_text() == "Didisposisikan"

    form = page.locator("form.step-forward")
    form.get_by_label("Diteruskan ke instansi (wajib)").fill("Balai Jalan Nasional")
    form.get_by_role("button").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").first.inner_text() == f"Pengaduan #{complaint_id} diteruskan (bukan wewenang)."
    assert page.locator("[data-stage]").inner_text() == "Diteruskan (bukan wewenang)"
    assert "Diteruskan ke: Balai Jalan Nasional" in timeline.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "lifecycle-timeline-1366.png"), full_page=True)


def test_an_overdue_complaint_shows_as_overdue_in_the_queue_and_on_its_page(live, context_factory):
    long_ago = (datetime.now(timezone.utc) - timedelta(days=21)).isoformat()
    with live.api() as api:
        late = api.post("/v1/complaints", json={"text": PU_COMPLAINT, "received_at": long_ago},
                        headers=live.handler.headers).json()["id"]
        fresh = api.post("/v1/complaints", json={"text": WATER_COMPLAINT}, headers=live.handler.headers).json()["id"]
    page = context_factory().new_page()
    browser_sign_in(page, live, live.handler)
    late_row = page.locator("tr[data-row]", has=page.locator(f'a[href^="/pengaduan/{late}"]'))
    fresh_row = page.locator("tr[data-row]", has=page.locator(f'a[href^="/pengaduan/{fresh}"]'))
    assert late_row.get_by_text("Terlambat").is_visible()
    assert fresh_row.get_by_text("Terlambat").count() == 0

    page.get_by_label("Terlambat").select_option("ya")
    page.get_by_role("button", name="Terapkan").click()
    page.wait_for_url("**terlambat=ya**")
    assert page.locator("tr[data-row]").count() == 1
    page.locator(f'a[href^="/pengaduan/{late}"]').click()
    page.wait_for_url(f"**/pengaduan/{late}**")
    assert page.locator(".lifecycle [data-overdue]").is_visible()


def test_a_focal_point_signs_in_acknowledges_and_settles_from_its_page(live, context_factory):
    complaint_id = create_and_route(live)
    focal = focal_key(live)
    page = context_factory().new_page()
    page.goto(f"{live.url}/masuk")
    page.get_by_label("Kunci API").fill(focal.token)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{live.url}/narahubung")
    assert page.get_by_role("link", name="Pengaduan OPD").is_visible()
    assert page.get_by_role("link", name="Antrean").count() == 0
    page.locator(f'a[href="/narahubung/pengaduan/{complaint_id}"]').click()
    page.wait_for_url(f"**/narahubung/pengaduan/{complaint_id}")

    page.locator("form.step-acknowledge").get_by_role("button").click()
    page.wait_for_load_state()
    assert page.locator("[data-stage]").inner_text() == "Diterima OPD"
    settle = page.locator("form.step-settle")
    settle.get_by_label("Jawaban kepada warga (wajib)").fill("Lubang sudah ditambal tim UPT jalan.")
    settle.get_by_role("button").click()
    page.wait_for_load_state()
    assert page.locator("[data-stage]").inner_text() == "Selesai"
    assert "Jawaban kepada warga: Lubang sudah ditambal tim UPT jalan." in page.locator(".timeline").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "lifecycle-focal-1366.png"), full_page=True)
    with live.api() as api:
        assert api.get(f"/v1/complaints/{complaint_id}", headers=live.handler.headers).json()["stage"] == "settled"


def test_the_monthly_report_prints_without_the_menu_and_filters(live, context_factory):
    create_and_route(live)
    page = context_factory().new_page()
    browser_sign_in(page, live, live.handler)
    page.get_by_role("link", name="Laporan bulanan").click()
    page.wait_for_url("**/laporan")
    total = page.locator("tr.total")
    assert total.locator("th").inner_text() == "Semua OPD"
    assert total.locator("td").first.inner_text() == "1"
    assert page.get_by_role("link", name="Unduh CSV").is_visible()

    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator("form.filters").is_visible()
    assert page.locator("table.report-table").is_visible()
    assert page.locator(".signature").is_visible()
    pdf = page.pdf(format="A4", landscape=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "lifecycle-report.pdf").write_bytes(pdf)
