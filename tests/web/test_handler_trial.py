"""Defects found when a handler tried the pages on a real queue (issue 14), through the real app (fast tier).

Each test states what a handler must be able to rely on; the browser-only ones are in
``test_browser_handler_trial.py``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.web.conftest import PU_COMPLAINT, WATER_COMPLAINT, post_complaint


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

