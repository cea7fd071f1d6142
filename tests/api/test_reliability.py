"""Reliability of ``triage serve`` as a real process, the way a busy pemda and an attacker meet it.

Requests are written over raw sockets where HTTP clients would hide what the server does (chunked bodies
that never end, bodies and headers that trickle in, headers too large to send politely).

* bodies are bounded however they arrive, and ``/v1`` checks the key before reading one;
* slow requests get 408 and oversized heads 431, then the connection is closed (not reset);
* many clients against one worker get exactly the suggestions a fresh model gives;
* ``kill -9`` while decisions are posted loses no decision the server acknowledged.

Each test starts its own server (about a second) and finishes well within a minute; they are marked
``slow`` but run in ``make test``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow

READ_TIMEOUT = 1.0
"""TRIAGE_READ_TIMEOUT_SECONDS of the servers started here."""
MiB = 1 << 20


@dataclass
class Served:
    base: str
    token: str
    pid: int

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.base)
        return parts.hostname, parts.port

    def rss(self) -> int:
        """Resident memory of the serving process, in bytes (from /proc)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) * 1024


def serve_env(tmp_path: Path, database_url: str | None = None) -> dict[str, str]:
    return os.environ | {"TRIAGE_DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'var' / 'triage.db'}",
                         "TRIAGE_STATE_DIR": str(tmp_path / "var"),
                         "TRIAGE_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT)}


@pytest.fixture
def served(tmp_path, start_server, triage_cli) -> Served:
    """``triage serve`` with one worker (as ``make serve`` runs it) on a fresh SQLite file, and a handler key."""
    env = serve_env(tmp_path)
    token = triage_cli("apikey", "create", "--name", "reliability", "--role", "handler", env=env).splitlines()[-1]
    base = start_server(env, workers=1)
    return Served(base, token, start_server.processes[base].pid)


# -- raw HTTP ------------------------------------------------------------------------------------------------

@dataclass
class Exchange:
    """What came back for one request written over a raw socket."""

    status: int | None
    head: str
    body: bytes
    answered_after: float | None
    closed: bool
    """The server closed the connection after answering (EOF or reset while waiting for more)."""
    sent: int
    """Bytes of the request the server took before it stopped reading."""
    send_error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def exchange(address: tuple[str, int], head: bytes, body: Iterable[bytes] = (), wait: float = 15.0) -> Exchange:
    """Write ``head`` then ``body`` (lazily, from a thread) while reading the answer, as a browser or curl
    does; then wait up to ``wait`` seconds for the server to close the connection."""
    sock = socket.create_connection(address)
    sock.settimeout(wait)
    sent, errors = [0], []

    def write() -> None:
        try:
            for piece in _chain(head, body):
                sock.sendall(piece)
                sent[0] += len(piece)
        except OSError as exc:
            errors.append(type(exc).__name__)

    writer = threading.Thread(target=write, daemon=True)
    began = time.monotonic()
    writer.start()
    data, answered_after, closed = b"", None, False
    try:
        while True:
            piece = sock.recv(65536)
            if not piece:
                closed = True
                break
            data += piece
            if answered_after is None and b"\r\n\r\n" in data:
                answered_after = time.monotonic() - began
            if answered_after is not None and _complete(data):
                sock.settimeout(wait)  # answered: now see whether the server closes the connection
                piece = _read_until_closed(sock)
                closed = piece is None
                break
    except ConnectionResetError:
        closed = True
    except TimeoutError:
        pass
    finally:
        sock.close()
        writer.join(timeout=wait)
    head_text, _, rest = data.partition(b"\r\n\r\n")
    lines = head_text.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else None
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return Exchange(status, head_text.decode("latin-1"), rest, answered_after, closed, sent[0],
                    errors[0] if errors else None, headers)


def _chain(head: bytes, body: Iterable[bytes]) -> Iterator[bytes]:
    yield head
    yield from body


def _complete(data: bytes) -> bool:
    head, _, rest = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(rest) >= int(value)
    return False


def _read_until_closed(sock: socket.socket) -> bytes | None:
    """None once the server closed the connection; whatever else it sent if it kept it open."""
    try:
        while sock.recv(65536):
            pass
        return None
    except ConnectionResetError:
        return None
    except TimeoutError:
        return b""


def chunked(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A chunked body of ``total`` bytes of JSON-ish text, made as it is sent (nothing held in memory)."""
    piece = b"%x\r\n" % size + b"a" * size + b"\r\n"
    for _ in range(total // size):
        yield piece
    yield b"0\r\n\r\n"


def trickle(data: bytes, every: float) -> Iterator[bytes]:
    for i in range(len(data)):
        time.sleep(every)
        yield data[i:i + 1]


def post_head(path: str, token: str | None, framing: str, length: int = 0) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: triage", "Content-Type: application/json"]
    lines.append("Transfer-Encoding: chunked" if framing == "chunked" else f"Content-Length: {length}")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


# -- bodies: bounded however they arrive, key first ----------------------------------------------------------

HUGE = 200 * MiB


@pytest.mark.parametrize("framing", ["chunked", "content-length"])
@pytest.mark.parametrize("key, status, error", [(False, 401, "unauthorized"), (True, 413, "too_large")])
def test_a_huge_body_is_refused_without_being_read_and_the_server_does_not_grow(served, framing, key, status,
                                                                               error):
    before = served.rss()

    answer = exchange(served.address, post_head("/v1/complaints", served.token if key else None, framing, HUGE),
                      chunked(HUGE))

    assert answer.status == status, answer.head
    assert f'"error":"{error}"'.encode() in answer.body
    assert answer.headers.get("connection") == "close" and answer.closed
    assert answer.sent < HUGE / 4, "the server read the body instead of closing the connection"
    assert served.rss() - before < 20 * MiB, f"the server grew by {(served.rss() - before) / MiB:.0f} MiB"


def test_a_refused_body_is_answered_in_indonesian_with_the_limit(served):
    answer = exchange(served.address, post_head("/v1/complaints", served.token, "chunked"), chunked(4 * MiB))

    assert answer.status == 413
    assert "Permintaan terlalu besar".encode() in answer.body and b"185536 byte" in answer.body


def test_a_chunked_complaint_within_the_limit_is_stored(served):
    body = '{"text": "Lampu jalan di Jl. Ahmad Yani Tenggarong mati sudah dua minggu, gelap rawan jambret."}'
    framed = [b"%x\r\n" % len(part) + part + b"\r\n" for part in (body[:30].encode(), body[30:].encode())]

    answer = exchange(served.address, post_head("/v1/complaints", served.token, "chunked"), [*framed, b"0\r\n\r\n"],
                      wait=0.5)

    assert answer.status == 201, answer.body
    assert b'"opd"' in answer.body and not answer.closed  # kept alive for the next request


# -- slow requests and oversized heads -----------------------------------------------------------------------

def test_a_body_that_trickles_in_is_answered_408_and_the_connection_closed(served):
    body = b'{"text": "Air PDAM di Tenggarong mati tiga hari."}'

    answer = exchange(served.address, post_head("/v1/complaints", served.token, "content-length", len(body)),
                      trickle(body, every=0.2))

    assert answer.status == 408, answer.head
    assert b'"error":"timeout"' in answer.body and "tidak selesai terkirim".encode() in answer.body
    assert answer.answered_after >= READ_TIMEOUT
    assert answer.closed


def test_headers_that_trickle_in_are_answered_408_and_the_connection_closed(served):
    head = b"GET /v1/taxonomy HTTP/1.1\r\nHost: triage\r\n" + b"X-Lambat: ya\r\n" * 40 + b"\r\n"

    answer = exchange(served.address, head[:20], trickle(head[20:], every=0.1))

    assert answer.status == 408, answer.head
    assert "Kepala permintaan".encode() in answer.body
    assert answer.answered_after >= READ_TIMEOUT
    assert answer.closed


@pytest.mark.parametrize("size", [20_000, 100_000, 4 * MiB])
def test_oversized_headers_get_431_and_a_closed_connection_not_a_reset(served, size):
    head = b"GET /healthz HTTP/1.1\r\nHost: triage\r\nCookie: " + b"k" * size + b"\r\n\r\n"

    answer = exchange(served.address, head)

    assert answer.status == 431, answer.head
    assert b'"error": "headers_too_large"' in answer.body and b"16384 byte" in answer.body
    assert answer.closed


def test_headers_just_under_the_limit_are_served(served):
    head = b"GET /healthz HTTP/1.1\r\nHost: triage\r\nCookie: " + b"k" * 16_000 + b"\r\n\r\n"

    answer = exchange(served.address, head, wait=0.5)

    assert answer.status == 200 and not answer.closed


# -- many clients, one worker --------------------------------------------------------------------------------

CLIENTS = 32


def _heads(suggestion: dict) -> dict[str, tuple]:
    """What must be identical: per head the code, its confidence and the alternatives with theirs."""
    return {head: (part["code"], part["confidence"], [(a["code"], a["confidence"]) for a in part["alternatives"]])
            for head, part in suggestion.items() if isinstance(part, dict) and "alternatives" in part}


def test_32_clients_against_one_worker_get_exactly_the_suggestions_of_a_fresh_model(served, test_set):
    import httpx

    from tests.conftest import SHIPPED_MODELS
    from triage.suggest import Suggester

    texts = test_set.texts[:320]
    headers = {"Authorization": f"Bearer {served.token}"}

    def post(batch: list[str]) -> list[tuple[str, int, dict]]:
        with httpx.Client(base_url=served.base, headers=headers, timeout=60) as client:
            answers = []
            for text in batch:
                response = client.post("/v1/complaints", json={"text": text, "channel": "web"})
                answers.append((text, response.status_code, response.json()))
            return answers

    barrier = threading.Barrier(CLIENTS)
    results: list[list[tuple[str, int, dict]]] = [[] for _ in range(CLIENTS)]

    def client(i: int) -> None:
        barrier.wait()  # all at once
        results[i] = post(texts[i::CLIENTS])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers = [answer for result in results for answer in result]
    fresh = Suggester.from_registry(SHIPPED_MODELS, "kukar", "kukar-seed")

    assert len(answers) == len(texts)
    assert [status for _, status, _ in answers if status != 201] == []
    differ = [text for text, _, body in answers
              if _heads(body["suggestion"]) != _heads(fresh.suggest(text).to_dict())]
    assert differ == [], f"{len(differ)} of {len(answers)} suggestions differ from a fresh model's"
    assert {body["suggestion"]["model_version"] for _, _, body in answers} == {"kukar-seed"}


# -- kill -9 while decisions are posted ----------------------------------------------------------------------

DECIDERS = 8


def test_no_acknowledged_decision_is_lost_when_the_server_is_killed_mid_stream(tmp_path, start_server, triage_cli,
                                                                              database_url, test_set, taxonomy):
    import signal

    import httpx

    env = serve_env(tmp_path, database_url)
    token = triage_cli("apikey", "create", "--name", "kill-9", "--role", "handler", env=env).splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    base = start_server(env, workers=1)
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        ids = [client.post("/v1/complaints", json={"text": text}).json()["id"] for text in test_set.texts[:24]]
    codes = {head: taxonomy.codes(head) for head in ("category", "opd", "maladministration")}
    acknowledged: list[tuple[int, dict]] = []  # (complaint id, decision as the server acknowledged it)
    lock, started = threading.Lock(), threading.Event()

    def decide(worker: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            for n in range(100_000):
                complaint = ids[(worker * 7 + n) % len(ids)]
                body = {head: values[(worker + n) % len(values)] for head, values in codes.items()}
                try:
                    response = client.post(f"/v1/complaints/{complaint}/decisions",
                                           json=body | {"note": f"klien {worker} ke-{n}"})
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code == 201:
                    with lock:
                        acknowledged.append((complaint, response.json()))
                        if len(acknowledged) >= 3 * DECIDERS:
                            started.set()

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(DECIDERS)]
    for thread in threads:
        thread.start()
    assert started.wait(30), "no decisions were acknowledged"
    time.sleep(0.3)  # mid-stream
    start_server.processes[base].send_signal(signal.SIGKILL)
    for thread in threads:
        thread.join(30)
    start_server.processes[base].wait(10)

    again = start_server(env, workers=1)
    with httpx.Client(base_url=again, headers=headers, timeout=30) as client:
        stored = {i: client.get(f"/v1/complaints/{i}").json()["decisions"] for i in ids}
    found = {(i, d["note"]): d for i, decisions in stored.items() for d in decisions}

    lost = [(i, d["note"]) for i, d in acknowledged
            if found.get((i, d["note"]), {}).get("revision") != d["revision"]
            or any(found[(i, d["note"])][h] != d[h] for h in codes)]
    assert len(acknowledged) >= 3 * DECIDERS
    assert lost == [], f"{len(lost)} of {len(acknowledged)} acknowledged decisions were lost"
