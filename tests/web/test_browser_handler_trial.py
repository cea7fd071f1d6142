"""Defects found when a handler tried the pages on a real queue (issue 14), in headless chromium: what only a
browser shows (key repeat, the order and size of things on a phone, right-to-left text)."""

from __future__ import annotations

import pytest

from tests.web.conftest import PHONE, PU_COMPLAINT, WATER_COMPLAINT, browser_sign_in
from tests.web.test_browser import create, read

pytestmark = pytest.mark.browser


def test_a_changed_correction_is_saved_by_the_main_button_not_thrown_away(live, context_factory):
    complaint = create(live, WATER_COMPLAINT, channel="wa")
    page = context_factory().new_page()
    browser_sign_in(page, live, live.handler)
    page.goto(f"{live.url}/pengaduan/{complaint['id']}")
    other, name = ("dishub", "Dinas Perhubungan") if complaint["routing"]["opd"] != "dishub" else (
        "dinsos", "Dinas Sosial")

    page.get_by_label("OPD", exact=True).select_option(label=name)
    main = page.locator("form.decision button.big")
    assert "Simpan perubahan rute" in main.inner_text()  # the button says what it will store
    main.click()
    page.wait_for_url(lambda url: f"/pengaduan/{complaint['id']}" not in url or "aksi=" in url)

    decision = read(live, complaint["id"])["decisions"][0]
    assert decision["opd"] == other and decision["kept"]["opd"] is False


def test_a_confirm_posted_with_changed_lists_stores_nothing_and_asks(live, context_factory):
    """Without the page's script (or before it ran), the server still refuses to drop the change."""
    complaint = create(live, WATER_COMPLAINT, channel="wa")
    page = context_factory().new_page()
    browser_sign_in(page, live, live.handler)
    page.goto(f"{live.url}/pengaduan/{complaint['id']}")
    other = "dishub" if complaint["routing"]["opd"] != "dishub" else "dinsos"
    page.evaluate(f"""() => {{
        const select = document.querySelector('select[name="opd"]');
        select.value = '{other}';  // changed without an input event: the script does not see it
        document.querySelector('button[value="konfirmasi"]').click();
    }}""")
    page.wait_for_load_state()

    assert read(live, complaint["id"])["decisions"] == []
    assert "belum tersimpan" in page.get_by_role("status").inner_text()
    assert page.locator('select[name="opd"]').input_value() == other
    assert "Simpan perubahan rute" in page.locator("form.decision button.big").inner_text()


def test_holding_k_confirms_only_the_complaint_on_screen(live, context_factory):
    older = create(live, WATER_COMPLAINT, channel="wa")
    newer = create(live, PU_COMPLAINT, channel="sms")
    page = context_factory().new_page()
    browser_sign_in(page, live, live.handler)
    page.goto(f"{live.url}/pengaduan/{newer['id']}")

    page.keyboard.down("k")  # the handler presses k ... and keeps it down: the keyboard repeats it
    page.wait_for_url(f"**/pengaduan/{older['id']}**")
    page.wait_for_load_state()
    for _ in range(5):
        page.keyboard.down("k")
        page.wait_for_timeout(50)
    page.keyboard.up("k")
    page.wait_for_timeout(300)

    assert read(live, newer["id"])["status"] == "decided"
    assert read(live, older["id"])["status"] == "pending", "a repeated key decided an unseen complaint"
    assert f"/pengaduan/{older['id']}" in page.url


def test_on_a_phone_the_confidences_come_before_the_confirm_button_and_targets_are_big(live, context_factory):
    complaint = create(live, PU_COMPLAINT, channel="sms")
    page = context_factory(PHONE).new_page()
    browser_sign_in(page, live, live.handler)
    page.goto(f"{live.url}/pengaduan/{complaint['id']}")

    cards = page.locator(".head-card .conf-value")
    confirm = page.locator("form.decision button.big").bounding_box()
    assert cards.count() == 3
    assert all(cards.nth(i).bounding_box()["y"] < confirm["y"] for i in range(3))
    for target in (page.get_by_role("button", name="Keluar"), page.get_by_role("link", name="Lewati"),
                   page.get_by_role("link", name="Kembali ke antrean")):
        box = target.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, f"{target} is {box}"


def test_a_right_to_left_override_does_not_reverse_the_rest_of_the_line(live, context_factory):
    create(live, "Jalan rusak \u202e di Loa Janan dekat pasar", channel="sms")
    page = context_factory().new_page()
    browser_sign_in(page, live, live.handler)

    def left_of(container, word: str) -> float:
        return page.evaluate("""([selector, word]) => {
            const root = document.querySelector(selector);
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.data.indexOf(word);
                if (at >= 0) {
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + word.length);
                    return range.getBoundingClientRect().left;
                }
            }
            return null;
        }""", [container, word])

    for container in ("table.queue tbody tr:first-child", ".complaint-text"):
        if container == ".complaint-text":
            page.locator("table.queue tbody tr:first-child a[href^='/pengaduan/']").first.click()
            page.wait_for_url("**/pengaduan/*")
        words = [left_of(container, w) for w in ("Jalan", "Loa", "Janan", "pasar")]
        assert None not in words, (container, words)
        assert words == sorted(words), f"{container}: words out of reading order {words}"
