"""End-to-end: the pages in a real headless chromium against the app served by uvicorn.

Sign in, see a new complaint in the queue, confirm one, correct another, check the decisions through the
API, the escaping of a hostile complaint, a keyboard-only confirmation, and screenshots of every page at
1366x768 and a phone size (``test-artifacts/screenshots/``; with ``TRIAGE_DOCS_SCREENSHOTS=1`` the README's
``docs/screenshots/queue.png`` and ``complaint.png`` are written too).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from tests.web.conftest import (DESKTOP, PHONE, PU_COMPLAINT, SCREENSHOTS, WATER_COMPLAINT, Live,
                                browser_sign_in)
from triage.settings import PROJECT_ROOT

pytestmark = pytest.mark.browser

DOCS_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"


def create(live: Live, text: str, **fields) -> dict:
    with live.api() as api:
        response = api.post("/v1/complaints", json={"text": text, **fields}, headers=live.handler.headers)
    assert response.status_code == 201, response.text
    return response.json()


def read(live: Live, complaint_id: int) -> dict:
    with live.api() as api:
        response = api.get(f"/v1/complaints/{complaint_id}", headers=live.handler.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_handler_signs_in_sees_a_new_complaint_confirms_one_and_corrects_another(live, context_factory):
    page = context_factory().new_page()
    browser_sign_in(page, live, live.handler)
    first = create(live, PU_COMPLAINT, channel="sms")
    second = create(live, WATER_COMPLAINT, channel="wa")

    page.reload()
    rows = page.locator("table.queue tbody tr")
    assert rows.first.locator("a.row-link").inner_text().startswith("Air PDAM")  # newest first
    assert page.get_by_text(PU_COMPLAINT[:40]).is_visible()

    # Confirm the first: one click.
    page.get_by_role("link", name=PU_COMPLAINT[:30]).click()
    page.wait_for_url(f"**/pengaduan/{first['id']}**")
    assert page.locator(".complaint-text mark").count() > 0
    page.get_by_role("button", name="Konfirmasi saran").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == f"Pengaduan #{first['id']} dikonfirmasi."

    decided = read(live, first["id"])
    assert decided["status"] == "decided"
    assert decided["decisions"][0]["kept"] == {"category": True, "opd": True, "maladministration": True}
    assert decided["decisions"][0]["decided_by"] == live.handler.name
    assert decided["routing"]["opd"] == first["suggestion"]["opd"]["code"]

    # Correct the second: another OPD and a note.
    page.goto(f"{live.url}/pengaduan/{second['id']}")
    other, name = "dinsos", "Dinas Sosial"
    if second["suggestion"]["opd"]["code"] == other:
        other, name = "dishub", "Dinas Perhubungan"
    page.get_by_label("OPD", exact=True).select_option(label=name)
    page.locator("form.decision").get_by_label("Catatan").fill("Bukan urusan PDAM; diteruskan ke OPD yang benar.")
    page.get_by_role("button", name="Simpan koreksi").click()
    page.wait_for_load_state()
    assert f"Pengaduan #{second['id']} dikoreksi." in page.get_by_role("status").inner_text()

    corrected = read(live, second["id"])
    decision = corrected["decisions"][0]
    assert decision["opd"] == other and decision["kept"]["opd"] is False
    assert decision["category"] == second["suggestion"]["category"]["code"] and decision["kept"]["category"]
    assert decision["note"] == "Bukan urusan PDAM; diteruskan ke OPD yang benar."

    page.goto(f"{live.url}/pengaduan/{second['id']}")
    history = page.locator(".history tbody tr")
    assert history.count() == 1
    assert name in history.first.inner_text() and "dikoreksi" in history.first.inner_text()


def test_a_complaint_taken_by_phone_is_routed_and_joins_the_queue(live, context_factory):
    page = context_factory().new_page()
    browser_sign_in(page, live, live.handler)
    page.get_by_role("link", name="Pengaduan baru").click()

    page.get_by_label("Isi pengaduan").fill(WATER_COMPLAINT)
    page.get_by_label("Nomor tiket asal").fill("TEL-0042")
    page.get_by_role("button", name="Simpan dan minta saran").click()

    page.wait_for_url("**/pengaduan/*")
    assert "tersimpan dan sudah diberi saran" in page.get_by_role("status").inner_text()
    stored = read(live, int(page.url.split("/pengaduan/")[1].split("?")[0]))
    assert stored["external_id"] == "TEL-0042" and stored["channel"] == "desk"
    assert stored["suggestion"]["opd"]["name"] in page.locator(".head-cards").inner_text()
    page.get_by_role("link", name="Antrean", exact=True).click()
    assert page.locator("table.queue tbody tr").first.inner_text().count("Loket / telepon") == 1


def test_a_complaint_with_markup_shows_as_text_and_runs_nothing(live, context_factory):
    hostile = ('Jalan rusak <script>window.__diretas = 1</script><img src=x onerror="window.__diretas = 2"> '
               '<b>tebal</b> di Loa Janan')
    complaint = create(live, hostile, channel="web")
    page = context_factory().new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    browser_sign_in(page, live, live.handler)

    assert "<script>window.__diretas = 1</script>" in page.locator("table.queue").inner_text()
    page.goto(f"{live.url}/pengaduan/{complaint['id']}")
    text = page.locator(".complaint-text")
    assert "<script>window.__diretas = 1</script>" in text.inner_text()
    assert "<b>tebal</b>" in text.inner_text()
    assert text.locator("script, img, b").count() == 0
    assert page.evaluate("window.__diretas") is None
    assert dialogs == []


def test_a_complaint_can_be_confirmed_with_the_keyboard_alone(live, context_factory):
    complaint = create(live, "Lampu penerangan jalan umum di depan pasar Tenggarong mati sudah dua minggu, "
                             "gelap dan rawan kecelakaan.", channel="sms")
    page = context_factory().new_page()
    page.goto(f"{live.url}/masuk")
    # The key field takes focus on arrival (autofocus); wait for it, as a person would see the cursor.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'api_key'")
    page.keyboard.type(live.handler.token)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live.url}/antrean")

    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box and box["y"] >= 0, "the skip link shows when focused"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "isi"

    page.keyboard.press("j")  # the first row: the newest complaint
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused.startswith(f"/pengaduan/{complaint['id']}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/pengaduan/{complaint['id']}**")
    page.keyboard.press("k")
    page.wait_for_url(lambda url: f"/pengaduan/{complaint['id']}" not in url)

    decided = read(live, complaint["id"])
    assert decided["status"] == "decided"
    assert all(decided["decisions"][0]["kept"].values())


def test_every_page_fits_a_laptop_and_a_phone(live, context_factory):
    seeded = seed(live)
    complaint_id = seeded[0]
    pages = {"queue": "/antrean", "complaint": f"/pengaduan/{complaint_id}", "intake": "/pengaduan/baru",
             "stats": "/statistik"}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for viewport in (DESKTOP, PHONE):
        size = f"{viewport['width']}x{viewport['height']}"
        page = context_factory(viewport).new_page()
        page.goto(f"{live.url}/masuk")
        assert page.get_by_role("heading", name="Masuk").is_visible()
        fits(page, "sign-in", size)
        page.screenshot(path=SCREENSHOTS / f"signin-{size}.png", full_page=True)
        browser_sign_in(page, live, live.admin)
        for name, path in pages.items():
            page.goto(f"{live.url}{path}")
            assert page.locator("h1").is_visible()
            fits(page, name, size)
            page.screenshot(path=SCREENSHOTS / f"{name}-{size}.png", full_page=True)
        if os.environ.get("TRIAGE_DOCS_SCREENSHOTS"):  # the README's: queue.png, queue-phone.png, ...
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            suffix = "" if viewport is DESKTOP else "-phone"
            for name, path in (("queue", "/antrean"), ("complaint", f"/pengaduan/{complaint_id}")):
                page.goto(f"{live.url}{path}")
                page.screenshot(path=DOCS_SCREENSHOTS / f"{name}{suffix}.png")
                shrink(DOCS_SCREENSHOTS / f"{name}{suffix}.png")
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 10


def test_statistics_show_charts_and_offer_csv(live, context_factory):
    seed(live)
    page = context_factory().new_page()
    browser_sign_in(page, live, live.admin)
    page.goto(f"{live.url}/statistik")
    assert page.locator("figure svg.chart").count() == 4
    assert page.locator("#grafik-opd svg rect").count() > 2
    with page.expect_download() as download:
        page.get_by_role("link", name="pengaduan per periode, OPD dan kategori (CSV)").click()
    lines = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "periode_mulai;opd;nama_opd;kategori;nama_kategori;jumlah_pengaduan"
    assert len(lines) > 1


def shrink(path) -> None:
    """Reduce a screenshot to a small palette PNG, fit for the repository (when Pillow is installed)."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def fits(page, name: str, size: str) -> None:
    """The page needs no sideways scrolling."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} at {size} is {overflow}px too wide"


def seed(live: Live, n: int = 16) -> list[int]:
    """Complaints from the seed test split, spread over four weeks and channels, a few of them decided."""
    path = PROJECT_ROOT / "training_data" / "kukar" / "test.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:n]]
    channels = ["sms", "wa", "web", "desk", "lapor"]
    now = datetime.now(timezone.utc)
    ids = []
    with live.api() as api:
        for i, record in enumerate(records):
            response = api.post("/v1/complaints", headers=live.handler.headers, json={
                "text": record["text"], "channel": channels[i % len(channels)],
                "received_at": (now - timedelta(days=(i * 37) % 28, hours=i)).isoformat()})
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        for i, (complaint_id, record) in enumerate(zip(ids[4:10], records[4:10])):
            api.post(f"/v1/complaints/{complaint_id}/decisions", headers=live.handler.headers,
                     json={h: record[h] for h in ("category", "opd", "maladministration")})
    return sorted(ids, reverse=True)
