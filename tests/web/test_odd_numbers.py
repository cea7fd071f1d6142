"""Numbers the pages receive in URLs and forms (complaint ids, revisions, batch numbers): a value that is not
ASCII digits (``²`` and ``١`` pass ``str.isdigit``) or too large for the database's integers is an
Indonesian error page (4xx) or ignored where it only decorates a message, never a 500."""

from __future__ import annotations

import pytest

from tests.web.conftest import PU_COMPLAINT, post_complaint

ODD = ["²", "١٢", "99999999999999999999999", "2147483648"]


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize("name", ["lewati", "lepas"])
def test_a_pass_list_with_an_odd_number_is_refused_in_indonesian(client, signed_in, name, value):
    response = client.get("/antrean", params={name: f"1,{value}"})

    assert response.status_code == 422
    assert "harus nomor pengaduan dipisah koma" in response.text


@pytest.mark.parametrize("value", ODD)
def test_an_odd_batch_number_after_a_bulk_confirmation_is_ignored(client, signed_in, value):
    response = client.get("/antrean", params={"massal": value, "jumlah": "3"})

    assert response.status_code == 200
    assert "Konfirmasi massal #" not in response.text


@pytest.mark.parametrize("value", ["²:0", "1:²", "99999999999999999999999:0", "1:2147483648"])
def test_a_bulk_confirmation_of_an_odd_row_is_refused_in_indonesian(client, signed_in, value):
    response = client.post("/antrean/konfirmasi", data={"csrf": signed_in, "pilih": value},
                           follow_redirects=False)

    assert response.status_code == 422
    assert "harus nomor pengaduan dan revisinya" in response.text


def test_undoing_a_batch_whose_number_no_batch_can_have_is_not_found(client, signed_in):
    response = client.post("/antrean/massal/99999999999999999999999/batal", data={"csrf": signed_in},
                           follow_redirects=False)

    assert response.status_code == 404
    assert "tidak ditemukan" in response.text


@pytest.mark.parametrize("value", ["²", "99999999999999999999999"])
def test_a_decision_with_an_odd_revision_seen_still_decides(client, signed_in, handler, value):
    complaint = post_complaint(client, handler, PU_COMPLAINT)

    response = client.post(f"/pengaduan/{complaint['id']}/keputusan", follow_redirects=False, data={
        "csrf": signed_in, "action": "konfirmasi", "expected_revision": value})

    assert response.status_code == 303
    assert client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers).json()["status"] == "decided"


@pytest.mark.parametrize("field", ["nomor", "duplicate_of"])
@pytest.mark.parametrize("value", ["²", "#١٢"])
def test_a_step_on_an_odd_complaint_number_is_refused_in_indonesian(client, signed_in, handler, field, value):
    complaint = post_complaint(client, handler, PU_COMPLAINT)
    form = {"csrf": signed_in, "nomor": str(complaint["id"]), "action": "archive", "reason": "duplicate",
            "duplicate_of": "1", field: value}

    response = client.post("/tindakan", data=form, follow_redirects=False)

    assert response.status_code == 422
    assert "tidak sah: tulis angkanya" in response.text
