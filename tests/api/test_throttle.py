"""Whoever guesses keys is slowed down: after ``key_failure_limit`` wrong keys in the window, one client
address gets 429 with ``Retry-After`` and a message in Bahasa Indonesia, on the API and the web sign-in
alike; and no API JSON may be kept by a cache (``Cache-Control: no-store``)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.throttle import FailureLimit

WRONG = {"Authorization": "Bearer trg_bukan-kunci-yang-benar"}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(settings, clock):
    """The app with a limit of 3 wrong keys a minute, counted on ``clock``."""
    app = create_app(settings.model_copy(update={"key_failure_limit": 3}))
    app.state.key_failures = FailureLimit(3, 60, clock=clock)
    return app


def test_the_limit_counts_failures_in_a_sliding_window(clock):
    failures = FailureLimit(3, 60, clock=clock)

    for _ in range(2):
        failures.failed("10.0.0.7")
        clock.now += 10
    assert failures.retry_after("10.0.0.7") is None
    failures.failed("10.0.0.7")

    assert failures.retry_after("10.0.0.7") == 40  # the first failure, 20 s ago, ages out in 40 s
    assert failures.retry_after("10.0.0.8") is None  # another address is not affected
    clock.now += 40
    assert failures.retry_after("10.0.0.7") is None


def test_a_limit_of_zero_never_refuses(clock):
    failures = FailureLimit(0, 60, clock=clock)
    for _ in range(100):
        failures.failed("10.0.0.7")
    assert failures.retry_after("10.0.0.7") is None


def test_it_remembers_a_bounded_number_of_addresses(clock):
    failures = FailureLimit(1, 60, clock=clock, max_clients=2)
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        failures.failed(address)

    assert failures.retry_after("10.0.0.1") is None  # forgotten first
    assert failures.retry_after("10.0.0.3") == 60


def test_wrong_keys_past_the_limit_get_a_429_even_with_the_right_key_until_the_window_passes(limited, handler,
                                                                                           clock):
    with TestClient(limited, client=("10.0.0.7", 40000)) as guesser:
        answers = [guesser.get("/v1/complaints", headers=WRONG).status_code for _ in range(3)]
        refused = guesser.get("/v1/complaints", headers=handler.headers)
        clock.now += 59
        still = guesser.get("/v1/complaints", headers=handler.headers)
        clock.now += 1
        again = guesser.get("/v1/complaints", headers=handler.headers)

    assert answers == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.json()["error"] == "too_many_requests"
    assert "Terlalu banyak kunci API yang salah" in refused.json()["message"]
    assert "60 detik" in refused.json()["message"]
    assert still.status_code == 429 and still.headers["Retry-After"] == "1"
    assert again.status_code == 200


def test_other_addresses_and_requests_without_a_key_are_not_counted(limited, handler):
    with TestClient(limited, client=("10.0.0.7", 40000)) as guesser, \
            TestClient(limited, client=("10.0.0.9", 40000)) as colleague:
        for _ in range(5):
            assert guesser.get("/v1/complaints").status_code == 401  # no key: nothing guessed
        assert guesser.get("/v1/complaints", headers=handler.headers).status_code == 200
        for _ in range(3):
            guesser.get("/v1/complaints", headers=WRONG)

        assert guesser.get("/v1/complaints", headers=handler.headers).status_code == 429
        assert colleague.get("/v1/complaints", headers=handler.headers).status_code == 200
        assert guesser.get("/healthz").status_code == 200


def test_wrong_keys_on_the_web_sign_in_count_against_the_same_address(limited, handler):
    with TestClient(limited, client=("10.0.0.7", 40000)) as browser:
        for _ in range(3):
            form = browser.get("/masuk")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
            wrong = browser.post("/masuk", data={"api_key": "trg_salah", "csrf": csrf, "next": "/antrean"},
                                 follow_redirects=False)
            assert wrong.status_code == 401
        form = browser.get("/masuk")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        right = browser.post("/masuk", data={"api_key": handler.token, "csrf": csrf, "next": "/antrean"},
                             follow_redirects=False)
        api = browser.get("/v1/complaints", headers=handler.headers)

    assert right.status_code == 429
    assert right.headers["Retry-After"] == "60"
    assert "Terlalu banyak kunci API yang salah" in right.text
    assert api.status_code == 429


def test_the_limit_comes_from_the_settings(settings):
    app = create_app(settings.model_copy(update={"key_failure_limit": 7, "key_failure_window_seconds": 30}))
    assert (app.state.key_failures.limit, app.state.key_failures.window_seconds) == (7, 30)


def test_every_api_json_answer_says_no_store(client, handler, complaint):
    answers = [
        client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers),
        client.get("/v1/complaints", headers=handler.headers),
        client.post("/v1/complaints", json={"text": COMPLAINT_TEXT}, headers=handler.headers),
        client.post("/v1/complaints", json={"text": ""}, headers=handler.headers),
        client.get("/v1/complaints/99999", headers=handler.headers),
        client.get("/v1/complaints"),
        client.get("/v1/taxonomy", headers=handler.headers),
        client.get("/readyz", headers=handler.headers),
        client.get("/healthz"),
    ]

    for response in answers:
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["cache-control"] == "no-store", (response.request.url, response.status_code)


COMPLAINT_TEXT = "Lampu jalan di Jalan Pahlawan Tenggarong mati sejak minggu lalu."
