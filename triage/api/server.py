"""uvicorn's h11 HTTP protocol as ``triage serve`` runs it: small writes sent at once, every request's head
bounded in size and time, and connections closed so the client can read why.

* ``TCP_NODELAY``: with ``--workers`` above 1 uvicorn binds the listening socket itself, without naming the
  TCP protocol, and asyncio then leaves Nagle's algorithm on for accepted connections. A response goes out
  as two writes (headers, body); on a keep-alive connection the body then waits for the client's delayed
  ACK, adding about 40 ms to every request.
* Headers larger than ``settings.max_header_bytes`` (h11's ``max_incomplete_event_size``, which
  ``triage serve`` sets) are answered 431, and other malformed requests 400, with a JSON message in
  Indonesian (uvicorn answers every such request with a plain-text 400).
* Headers not complete within ``settings.read_timeout_seconds`` of their first byte are answered 408 (the
  body's own deadline is :mod:`triage.api.limits`'s).
* Lingering close: when the server closes a connection while the client may still be sending (a 413, 408
  or 401 given before the body was read, a 431), closing at once would make the kernel answer the unread
  bytes with a reset, and a client still writing would see "connection reset" instead of the answer. The
  connection is half-closed instead (the answer, then FIN); what the client still sends is read and
  dropped, unparsed, for at most ``LINGER_SECONDS`` or ``LINGER_BYTES``; then it is closed.

h11 rather than httptools: h11 bounds the request head and reports which limit was hit.
``triage serve`` passes :class:`TriageHTTPProtocol` as uvicorn's ``http`` protocol.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import h11
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
from uvicorn.protocols.http.h11_impl import H11Protocol

from triage.api.errors import error_body
from triage.settings import get_settings

LINGER_SECONDS = 2.0
"""Longest a closing connection keeps reading (and dropping) what the client still sends."""
LINGER_BYTES = 1 << 20
"""Most bytes dropped that way before the connection is closed regardless."""

_MESSAGES = {
    400: ("bad_request", "Permintaan HTTP tidak sah dan tidak bisa dibaca. Periksa klien HTTP yang dipakai."),
    408: ("timeout", "Kepala permintaan (baris pertama dan header) tidak selesai terkirim dalam {seconds:g} detik; "
                     "koneksi ditutup. Kirim ulang permintaannya sekaligus."),
    431: ("headers_too_large", "Header permintaan terlalu besar: batasnya {limit} byte. Kirim header yang lebih "
                               "kecil (misalnya cookie atau kunci yang lebih pendek)."),
}


class _Connection(h11.Connection):
    """h11's connection, remembering the last protocol error of the client (its status hint says which).

    h11 bounds a request head only while it is incomplete; one that arrives whole in a single read is
    measured here against the same limit."""

    last_error: h11.RemoteProtocolError | None = None

    def next_event(self) -> Any:
        try:
            event = super().next_event()
            if type(event) is h11.Request and _head_size(event) > self._max_incomplete_event_size:
                raise h11.RemoteProtocolError("request head too long", error_status_hint=431)
            return event
        except h11.RemoteProtocolError as exc:
            self.last_error = exc
            raise


def _head_size(request: h11.Request) -> int:
    """Bytes of the request line and headers as sent (give or take the line ends' spaces)."""
    return (len(request.method) + len(request.target) + 12
            + sum(len(name) + len(value) + 4 for name, value in request.headers.raw_items()))


class _LingeringTransport:
    """The connection's transport, whose ``close`` lets a client still sending read the answer first."""

    def __init__(self, transport: asyncio.Transport, protocol: TriageHTTPProtocol) -> None:
        self._transport, self._protocol = transport, protocol

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def close(self) -> None:
        protocol, transport = self._protocol, self._transport
        if transport.is_closing() or protocol.lingering or not protocol.client_may_be_sending():
            if not protocol.lingering:
                transport.close()
            return
        protocol.lingering = True
        transport.write_eof()  # the answer, then FIN: the client learns nothing more will come
        transport.resume_reading()
        protocol.loop.call_later(LINGER_SECONDS, transport.close)


class TriageHTTPProtocol(H11Protocol):
    """uvicorn's h11 protocol with TCP_NODELAY, 431/408 for request heads, and a lingering close."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _Connection(h11.SERVER, self.config.h11_max_incomplete_event_size
                                or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE)
        self.head_timeout = get_settings().read_timeout_seconds
        self.head_timer: asyncio.TimerHandle | None = None
        self.lingering = False
        self.dropped = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # not a TCP socket after all: nothing to tune
                pass
        super().connection_made(_LingeringTransport(transport, self))  # type: ignore[arg-type]

    def client_may_be_sending(self) -> bool:
        """Whether closing now could leave bytes of the client's request unread."""
        state = self.conn.their_state
        if state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED):
            return False
        return state is not h11.IDLE or bool(self.conn.trailing_data[0])

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            self.dropped += len(data)
            if self.dropped > LINGER_BYTES:
                self.transport._transport.close()  # type: ignore[attr-defined]
            return
        if self.head_timer is None and self.conn.their_state is h11.IDLE:
            self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)
        super().data_received(data)
        if self.head_timer is not None and self.conn.their_state is not h11.IDLE:
            self.head_timer.cancel()  # the head is complete (or refused): the body has its own deadline
            self.head_timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.head_timer is not None and self.conn.their_state is not h11.IDLE:  # a pipelined request began
            self.head_timer.cancel()
            self.head_timer = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        super().connection_lost(exc)

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE and not self.transport.is_closing():
            self._refuse(408)

    def send_400_response(self, msg: str) -> None:
        """uvicorn calls this for a request h11 cannot parse: answer with h11's status hint (431 for a head
        over the limit), in Indonesian."""
        error = self.conn.last_error
        self._refuse(error.error_status_hint if error is not None and error.error_status_hint in _MESSAGES else 400)

    def _refuse(self, status: int) -> None:
        kind, template = _MESSAGES[status]
        message = template.format(seconds=self.head_timeout, limit=self.conn._max_incomplete_event_size)
        body = json.dumps(error_body(message, kind), ensure_ascii=False).encode("utf-8")
        head = (f"HTTP/1.1 {status} {_REASONS[status]}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode("ascii")
        self.transport.write(head + body)  # written by hand: h11 refuses to send once the client has erred
        self.transport.close()


_REASONS = {400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large"}
