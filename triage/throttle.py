"""A limit on wrong keys per client address: whoever guesses API keys gets 429 after a few tries.

:class:`FailureLimit` counts failures per client address in a sliding window (default 20 a minute, settings
``key_failure_limit`` and ``key_failure_window_seconds``). Once an address reaches the limit, every key it
sends is refused, right or wrong, until its oldest failure in the window has aged out: a guesser learns
nothing more, and ``Retry-After`` says when to try again. Two front ends share one count per worker:

* the API (:class:`KeyThrottle`, ASGI middleware): a request that sends ``Authorization`` and is answered
  401 counts as a failure (a request without a key does not: it guesses nothing); a request that sends a key
  from an address over the limit is answered 429 before the key is looked at.
* the web sign-in form (:mod:`triage.web.pages`): a wrong key typed there counts the same way.

The count lives in each worker process (memory only): with ``--workers N`` an address may try up to N times
the limit before every worker refuses it, and a restart forgets the count. Behind a reverse proxy every
client has the proxy's address, unless uvicorn is told to trust its ``X-Forwarded-For``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class FailureLimit:
    """At most ``limit`` failures per ``window_seconds`` from one client; ``limit`` 0 turns it off.

    ``clock`` gives seconds (monotonic by default; tests pass their own). At most ``max_clients`` addresses
    are remembered, the least recently failed forgotten first, so that memory stays bounded. Thread-safe.
    """

    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 10_000) -> None:
        self.limit, self.window_seconds, self.clock, self.max_clients = limit, window_seconds, clock, max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until ``client`` may try again, or ``None`` if it may try now."""
        if self.limit <= 0:
            return None
        with self._lock:
            now = self.clock()
            recent = self._recent(client, now)
            if len(recent) < self.limit:
                return None
            return max(1, math.ceil(recent[-self.limit] + self.window_seconds - now))

    def failed(self, client: str) -> None:
        """Count one failure of ``client``."""
        if self.limit <= 0:
            return
        with self._lock:
            now = self.clock()
            recent = self._recent(client, now)
            recent.append(now)
            while len(recent) > self.limit:  # older ones no longer decide anything
                recent.popleft()
            self._failures[client] = recent
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)

    def _recent(self, client: str, now: float) -> deque[float]:
        recent = self._failures.get(client, deque())
        while recent and recent[0] <= now - self.window_seconds:
            recent.popleft()
        if not recent:
            self._failures.pop(client, None)
        return recent


def client_of(scope: Scope) -> str:
    """The client's address as the server saw it (``unknown`` without one)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def too_many_message(seconds: int) -> str:
    """What a client over the limit is told (Bahasa Indonesia)."""
    return (f"Terlalu banyak kunci API yang salah dari alamat ini. Coba lagi dalam {seconds} detik dengan kunci "
            "yang benar; jika Anda tidak tahu kuncinya, minta ke admin.")


class KeyThrottle:
    """ASGI middleware of the API: 429 for a key sent from an address over the limit of
    ``app.state.key_failures`` (a :class:`FailureLimit`); each 401 answered to a request that sent a key
    counts as a failure. Outermost, so that a refused client costs no database look-up."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _sends_key(scope["headers"]):
            await self.app(scope, receive, send)
            return
        failures: FailureLimit = scope["app"].state.key_failures
        client = client_of(scope)
        wait = failures.retry_after(client)
        if wait is not None:
            from triage.api.errors import error_body  # not at the top: triage.api imports this module

            response = JSONResponse(error_body(too_many_message(wait), "too_many_requests"), status_code=429,
                                    headers={"Retry-After": str(wait), "Connection": "close"})
            await response(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                failures.failed(client)
            await send(message)

        await self.app(scope, receive, watch)


def _sends_key(headers: Any) -> bool:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.partition(b" ")
            return scheme.lower() == b"bearer" and bool(credentials.strip())
    return False
