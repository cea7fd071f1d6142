"""uvicorn's HTTP protocol with ``TCP_NODELAY`` on every connection.

With ``--workers`` above 1 uvicorn binds the listening socket itself, without naming the TCP protocol, and
asyncio then leaves Nagle's algorithm on for accepted connections. A response goes out as two writes
(headers, body); on a keep-alive connection the body then waits for the client's delayed ACK, adding about
40 ms to every request. ``triage serve`` passes this class as uvicorn's ``http`` protocol.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's default HTTP/1.1 protocol, with small writes sent at once."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # not a TCP socket after all: nothing to tune
                pass
        super().connection_made(transport)
