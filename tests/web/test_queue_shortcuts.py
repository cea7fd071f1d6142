"""End-to-end in chromium: the cheaper ways through a queue. Rows left unticked in a bulk confirmation stay
unticked for the pass, the "Yakin saja" view, the queue's keys (a, c, y), an alternative stored with one key
or click, and a correction list reached with a key, chosen by typing and saved with Enter."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import (DESKTOP, PHONE, PU_COMPLAINT, WATER_COMPLAINT, Live, browser_sign_in,
                                post_complaint)
from tests.web.test_worklist import read, seed

browser = pytest.mark.browser


def box(page, complaint_id: int):
    return page.locator(f'input[data-confident][value^="{complaint_id}:"]')


@browser
def test_a_row_left_unticked_in_a_batch_is_not_ticked_again_by_select_all(live, context_factory):
    stored = seed(live, 12)
    confident = [c["id"] for c in stored  # forwarding outside the pemda is never confirmed in bulk
                 if not c["suggestion"]["needs_review"] and not c["suggestion"]["opd"]["outside"]]
    assert len(confident) >= 3, "the sample needs confident complaints"
    set_aside = confident[0]
    page = context_factory(DESKTOP).new_page()
    browser_sign_in(page, live, live.handler)

    page.keyboard.press("a")  # select all confident
    assert page.locator("[data-bulk-count]").inner_text() == str(len(confident))
    box(page, set_aside).uncheck()  # its suggestion is wrong
    page.keyboard.press("c")  # confirm the ticked ones
    page.wait_for_url(re.compile(r"massal=\d+"))

    assert re.search(rf"lepas={set_aside}\b", page.url)
    assert read(live, set_aside)["status"] == "pending"
    assert all(read(live, i)["status"] == "decided" for i in confident[1:])
    assert box(page, set_aside).get_attribute("data-unticked") is not None
    assert "Pilih semua yang yakin (0)" in page.locator(".bulk-bar").inner_text()
    page.keyboard.press("a")  # nothing left to select: the row set aside stays unticked
    assert not box(page, set_aside).is_checked()
    assert page.locator("[data-bulk-count]").inner_text() == "0"
    box(page, set_aside).check()  # ticking it by hand still works
    assert page.locator("[data-bulk-count]").inner_text() == "1"


@browser
def test_the_confident_view_lists_only_confident_rows_and_two_keys_confirm_them(live, context_factory):
    stored = seed(live, 12)
    confident = {c["id"] for c in stored if not c["suggestion"]["needs_review"]}
    assert confident and len(confident) < len(stored)
    outside = {c["id"] for c in stored if c["suggestion"]["opd"]["outside"]}  # shown, but forwarded one by one
    page = context_factory(DESKTOP).new_page()
    browser_sign_in(page, live, live.handler)

    page.keyboard.press("y")
    page.wait_for_url(re.compile(r"tinjau=tidak"))
    shown = {int(t.strip("#")) for t in page.locator("table.queue tbody td:nth-child(2)").all_inner_texts()}
    assert shown == confident
    page.keyboard.press("a")
    page.keyboard.press("c")
    page.wait_for_url(re.compile(r"massal=\d+"))
    assert f"{len(confident - outside)} pengaduan dikonfirmasi sekaligus" in page.locator(".batch-note").inner_text()
    assert all(read(live, i)["status"] == "decided" for i in confident - outside)
    assert page.locator("table.queue tbody tr").count() == len(confident & outside)


def open_first(live: Live, context_factory, viewport: dict[str, int] = DESKTOP):
    """Three complaints stored, the handler signed in and on the first of the queue: the page and the
    complaint as the API tells it."""
    seed(live, 3)
    page = context_factory(viewport).new_page()
    browser_sign_in(page, live, live.handler)
    page.locator("table.queue tbody tr a.row-link").first.click()
    page.wait_for_url(re.compile(r"/pengaduan/\d+"))
    return page, read(live, int(page.url.split("/pengaduan/")[1].split("?")[0]))


@browser
def test_the_second_opd_alternative_is_stored_with_one_key_and_the_next_complaint_opens(live,
                                                                                        context_factory):
    page, complaint = open_first(live, context_factory)
    second = complaint["suggestion"]["opd"]["alternatives"][1]
    shown_at = page.url

    page.keyboard.press("2")
    page.wait_for_url(lambda url: url != shown_at)

    decision = read(live, complaint["id"])["decisions"][0]
    assert decision["opd"] == second["code"] and decision["kept"]["opd"] is False
    assert decision["kept"]["category"] and decision["kept"]["maladministration"]
    assert f"Pengaduan #{complaint['id']} dikoreksi." in page.get_by_role("status").inner_text()
    assert f"/pengaduan/{complaint['id']}" not in page.url  # the next complaint is open


@browser
def test_an_alternatives_pick_button_keeps_the_other_lists_changes(live, context_factory):
    page, complaint = open_first(live, context_factory, PHONE)
    category = complaint["suggestion"]["category"]["alternatives"][1]["code"]
    malad = complaint["suggestion"]["maladministration"]["alternatives"][1]

    page.locator("#koreksi-category").select_option(category)
    pick = page.get_by_role("button", name=f"Simpan bentuk maladministrasi: {malad['name']}")
    assert pick.bounding_box()["height"] >= 44  # a touch target on a phone
    pick.click()
    page.wait_for_url(re.compile(r"aksi=koreksi"))

    decision = read(live, complaint["id"])["decisions"][0]
    assert (decision["category"], decision["maladministration"]) == (category, malad["code"])
    assert decision["opd"] == complaint["suggestion"]["opd"]["code"] and decision["kept"]["opd"]


@browser
def test_an_opd_outside_the_candidates_is_stored_with_two_clicks(live, context_factory):
    page, complaint = open_first(live, context_factory)
    suggested = {a["code"] for a in complaint["suggestion"]["opd"]["alternatives"]}
    card = page.locator(".head-card", has=page.locator("#saran-opd"))
    shown_at = page.url

    card.get_by_text("OPD lain").click()
    buttons = card.locator(".other-codes button")
    codes = [v.split(":")[1] for v in buttons.evaluate_all("els => els.map(e => e.value)")]
    assert codes and not suggested & set(codes)  # the candidates have their own buttons
    target = buttons.nth(len(codes) // 2)
    code = codes[len(codes) // 2]
    target.click()
    page.wait_for_url(lambda url: url != shown_at)

    decision = read(live, complaint["id"])["decisions"][0]
    assert decision["opd"] == code and decision["kept"]["opd"] is False
    assert decision["kept"]["category"] and decision["kept"]["maladministration"]


@browser
def test_the_opd_list_is_reached_with_o_chosen_by_typing_and_saved_with_enter(live, context_factory):
    page, complaint = open_first(live, context_factory)
    options = page.locator("#koreksi-opd option").evaluate_all(
        "els => els.map(e => [e.value, e.textContent.trim()])")
    suggested = {a["code"] for a in complaint["suggestion"]["opd"]["alternatives"]}
    # an OPD outside the model's candidates whose name's first word no other name starts with
    firsts = [name.split()[0].lower() for _, name in options]
    code, name = next((c, n) for c, n in options
                      if c not in suggested and firsts.count(n.split()[0].lower()) == 1)
    shown_at = page.url

    page.keyboard.press("o")
    assert page.evaluate("document.activeElement.id") == "koreksi-opd"
    page.keyboard.type(name.split()[0])
    assert page.locator("#koreksi-opd").input_value() == code
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url != shown_at)

    decision = read(live, complaint["id"])["decisions"][0]
    assert decision["opd"] == code and decision["kept"]["opd"] is False
    assert decision["kept"]["category"] and decision["kept"]["maladministration"]


# -- the same routes without a browser --------------------------------------------------------------


def test_a_malformed_alternative_or_list_of_shown_rows_is_an_error_page_and_stores_nothing(
        client, signed_in, handler):
    complaint = post_complaint(client, handler, PU_COMPLAINT)
    codes = {h: complaint["suggestion"][h]["code"] for h in ("category", "opd", "maladministration")}

    unknown_head = client.post(f"/pengaduan/{complaint['id']}/keputusan",
                               data={"csrf": signed_in, "pilih": "kantor:dinsos", **codes})
    unknown_code = client.post(f"/pengaduan/{complaint['id']}/keputusan",
                               data={"csrf": signed_in, "pilih": "opd:dinas_rahasia", **codes})
    shown = client.post("/antrean/konfirmasi", data={"csrf": signed_in, "pilih": f"{complaint['id']}:0",
                                                     "tampil": "12,abc"})

    assert unknown_head.status_code == 422
    assert "Pilihan alternatif &#39;kantor:dinsos&#39; tidak sah" in unknown_head.text
    assert unknown_code.status_code == 422
    assert "Kode OPD &#39;dinas_rahasia&#39; tidak dikenal" in unknown_code.text
    assert shown.status_code == 422 and "Daftar pengaduan yang ditampilkan tidak sah" in shown.text
    stored = client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers).json()
    assert stored["status"] == "pending" and stored["decisions"] == []


def test_rows_shown_but_left_unticked_travel_with_the_queue_after_a_bulk_confirmation(client, signed_in,
                                                                                      handler):
    first = post_complaint(client, handler, PU_COMPLAINT)
    second = post_complaint(client, handler, WATER_COMPLAINT)

    response = client.post("/antrean/konfirmasi", data={
        "csrf": signed_in, "pilih": f"{first['id']}:0", "tampil": f"{first['id']},{second['id']}",
        "antrean": "kanal=sms"}, follow_redirects=False)

    assert response.status_code == 303
    location = response.headers["location"]
    assert f"lepas={second['id']}" in location and "kanal=sms" in location
