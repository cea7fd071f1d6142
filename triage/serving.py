"""The serving model of one process, swapped when a new one is promoted.

:class:`ModelHolder.get` looks at the registry's promotion pointer at most once per ``check_seconds`` and,
when it changed, loads the newly promoted model and swaps it in with one assignment: requests already
holding the old :class:`~triage.suggest.Suggester` finish with it. Each worker process has its own holder,
so every worker notices a promotion within a second of its next request.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from triage.errors import ModelError
from triage.registry import ModelRegistry
from triage.suggest import Suggester

log = logging.getLogger(__name__)


class ModelHolder:
    """Hands out the serving :class:`Suggester` of ``models_dir`` for ``deployment``."""

    def __init__(self, models_dir: str | Path, deployment: str | Path, check_seconds: float = 1.0) -> None:
        self.models_dir = Path(models_dir)
        self.deployment = deployment
        self.check_seconds = check_seconds
        self._registry = ModelRegistry(self.models_dir)
        self._lock = threading.Lock()
        self._suggester: Suggester | None = None
        self._stamp: tuple[float, str] | None = None
        self._checked = float("-inf")
        self.last_error: str | None = None

    def get(self) -> Suggester:
        """The serving suggester; loads it on first use and after a promotion.

        If a newly promoted model cannot be loaded, the one serving keeps serving and ``last_error`` says
        why; with no model loaded yet, the :class:`ModelError` is raised.
        """
        suggester = self._suggester
        if suggester is not None and time.monotonic() - self._checked < self.check_seconds:
            return suggester
        with self._lock:
            if self._suggester is not None and time.monotonic() - self._checked < self.check_seconds:
                return self._suggester
            self._checked = time.monotonic()  # other threads keep the current model while this one loads
            stamp = self._registry.pointer_stamp()
            if self._suggester is None or stamp != self._stamp:
                try:
                    fresh = Suggester.from_registry(self.models_dir, self.deployment)
                except ModelError as exc:
                    if self._suggester is None:
                        raise
                    self.last_error = str(exc)
                    log.error("keeping model %s: the promoted model cannot be loaded: %s",
                              self._suggester.version, exc)
                else:
                    if self._suggester is not None and fresh.version != self._suggester.version:
                        log.info("serving model %s (was %s)", fresh.version, self._suggester.version)
                    self._suggester, self.last_error = fresh, None
                self._stamp = stamp
            return self._suggester
