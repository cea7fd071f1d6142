"""Sign-in, the session cookie and CSRF: only a valid, unrevoked key gets in; forms from elsewhere fail."""

from __future__ import annotations

import time

import pytest

from tests.web.conftest import csrf_of, post_complaint, sign_in
from triage.apikeys import revoke_key
from triage.db import make_engine, make_sessions
from triage.web.session import COOKIE, WebSession, csrf_token, sign, unsign

SECRET = b"rahasia-uji"


def test_a_signed_session_reads_back_and_a_tampered_or_expired_one_does_not():
    session = WebSession.new(7, 3600)
    value = sign(SECRET, session)

    assert unsign(SECRET, value) == session
    assert unsign(b"another secret", value) is None
    body, signature = value.split(".")
    assert unsign(SECRET, body.replace(body[5], "A" if body[5] != "A" else "B") + "." + signature) is None
    assert unsign(SECRET, value, now=session.expires + 1) is None
    assert unsign(SECRET, "garbage") is None and unsign(SECRET, None) is None


def test_a_csrf_token_belongs_to_its_session():
    one, other = WebSession.new(1, 60), WebSession.new(1, 60)
    assert csrf_token(SECRET, one) == csrf_token(SECRET, one)
    assert csrf_token(SECRET, one) != csrf_token(SECRET, other)


@pytest.mark.parametrize("path", ["/antrean", "/pengaduan/1", "/pengaduan/baru", "/statistik"])
def test_pages_send_a_visitor_without_a_session_to_sign_in(client, path):
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/masuk?next=")


def test_signing_in_sets_an_httponly_samesite_expiring_cookie_with_only_the_key_id(client, handler, settings):
    form = client.get("/masuk")
    assert form.headers["content-security-policy"].startswith("default-src 'self'")
    response = client.post("/masuk", data={"api_key": handler.token, "csrf": csrf_of(form.text),
                                           "next": "/pengaduan/baru"}, follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/pengaduan/baru"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert f"Max-Age={settings.session_hours * 3600}" in cookie
    session = unsign(SECRET, client.cookies[COOKIE])
    assert session is not None and session.key_id == 1
    assert handler.token not in cookie
    assert client.get("/antrean").status_code == 200


def test_signing_in_starts_a_new_session(client, handler):
    form = client.get("/masuk")
    before = unsign(SECRET, client.cookies[COOKIE])
    client.post("/masuk", data={"api_key": handler.token, "csrf": csrf_of(form.text)}, follow_redirects=False)
    after = unsign(SECRET, client.cookies[COOKIE])

    assert before is not None and after is not None and before.nonce != after.nonce


def test_a_wrong_key_is_refused_with_a_message(client):
    form = client.get("/masuk")
    response = client.post("/masuk", data={"api_key": "trg_tebakan", "csrf": csrf_of(form.text)})

    assert response.status_code == 401
    assert "Kunci API tidak dikenal" in response.text
    assert client.get("/antrean", follow_redirects=False).status_code == 303


def test_sign_in_without_the_form_token_is_refused(client, handler):
    client.get("/masuk")
    response = client.post("/masuk", data={"api_key": handler.token, "csrf": "palsu"})

    assert response.status_code == 403
    assert "token CSRF" in response.text


@pytest.mark.parametrize("target", ["https://jahat.example/", "//jahat.example/", "/\\jahat.example",
                                    "antrean"])
def test_sign_in_never_redirects_off_site(client, handler, target):
    form = client.get("/masuk")
    data = {"api_key": handler.token, "csrf": csrf_of(form.text), "next": target}
    response = client.post("/masuk", data=data, follow_redirects=False)

    assert response.headers["location"] == "/antrean"


@pytest.mark.parametrize("target", ["https://jahat.example/", "//jahat.example/", "/\\jahat.example",
                                    "/\r\nSet-Cookie: a=b", "antrean"])
def test_a_step_goes_back_only_to_a_page_of_this_site(client, signed_in, handler, target):
    complaint = post_complaint(client, handler, "Jalan rusak di Loa Janan")

    response = client.post("/tindakan", follow_redirects=False, data={
        "csrf": signed_in, "nomor": str(complaint["id"]), "action": "archive", "reason": "spam",
        "kembali": target})

    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/pengaduan/{complaint['id']}?selesai=")


def test_a_revoked_key_ends_the_session_at_the_next_request(client, signed_in, handler, database_url):
    engine = make_engine(database_url)
    with make_sessions(engine)() as db:
        revoke_key(db, handler.name)
    engine.dispose()

    response = client.get("/antrean", follow_redirects=False)
    assert response.status_code == 303 and "alasan=dicabut" in response.headers["location"]
    assert "sudah dicabut" in client.get(response.headers["location"]).text


def test_an_expired_session_must_sign_in_again(client, signed_in):
    expired = WebSession(key_id=1, nonce="n", expires=int(time.time()) - 1)
    client.cookies.clear()
    client.cookies.set(COOKIE, sign(SECRET, expired))

    assert client.get("/antrean", follow_redirects=False).status_code == 303


def test_a_malformed_decision_sent_after_the_session_ended_still_leads_to_the_sign_in_page(client, handler):
    complaint = post_complaint(client, handler, "Jalan rusak di Loa Janan")

    response = client.post(f"/pengaduan/{complaint['id']}/keputusan", follow_redirects=False,
                           data={"pilih": "bukan-pilihan", "csrf": "kedaluwarsa"})

    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?alasan=habis"
    assert "Sesi Anda sudah berakhir" in client.get(response.headers["location"]).text


def test_a_form_without_its_csrf_token_changes_nothing(client, signed_in, handler):
    complaint = post_complaint(client, handler, "Jalan rusak di Loa Janan")

    for data in ({"action": "konfirmasi"}, {"action": "konfirmasi", "csrf": "palsu"}):
        response = client.post(f"/pengaduan/{complaint['id']}/keputusan", data=data)
        assert response.status_code == 403
    other_site = client.post(f"/pengaduan/{complaint['id']}/keputusan",
                             data={"action": "konfirmasi", "csrf": signed_in},
                             headers={"Origin": "https://jahat.example"})
    assert other_site.status_code == 403
    assert client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers).json()["decisions"] == []


def test_signing_out_ends_the_session(client, signed_in):
    response = client.post("/keluar", data={"csrf": signed_in}, follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"].startswith("/masuk")
    assert client.get("/antrean", follow_redirects=False).status_code == 303


def test_statistics_are_for_admins(client, handler, admin):
    sign_in(client, handler)
    assert client.get("/statistik").status_code == 403
    assert "Statistik" not in client.get("/antrean").text.split("<main")[0]

    sign_in(client, admin)
    assert client.get("/statistik").status_code == 200


def test_without_a_configured_secret_every_worker_shares_one_kept_in_the_state_dir(tmp_path):
    from triage.web.session import new_secret

    first = new_secret("", tmp_path / "web-secret")
    assert new_secret("", tmp_path / "web-secret") == first  # another worker, or a restart
    assert (tmp_path / "web-secret").stat().st_mode & 0o777 == 0o600
    assert new_secret("configured", tmp_path / "web-secret") == b"configured"


def test_made_up_cookies_and_form_tokens_in_any_characters_are_refused_not_crashed(client, handler):
    from triage.web.session import unsign

    assert unsign(b"secret", "\u00e9.\u00e9") is None
    response = client.get("/antrean", headers={"cookie": "triage_session=\u00e9.\u00e9".encode()},
                          follow_redirects=False)
    assert response.status_code == 303
    client.get("/masuk")
    response = client.post("/masuk", data={"api_key": handler.token, "csrf": "é"})
    assert response.status_code == 403 and "token CSRF" in response.text
