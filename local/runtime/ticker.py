"""A background thread that does one round of work every `interval` seconds until stopped: how the local
runtime pumps the functions' queues and runs due schedules, as AWS does on its own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

LOG = logging.getLogger(__name__)


class Ticker:
    """`work(interval)` once a round; a round that raises is logged and the next one runs."""

    def __init__(self, name: str, work: Callable[[float], object]) -> None:
        self.name = name
        self._work = work
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, interval: float) -> None:
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self._work(interval)
                except Exception:  # one failed round is logged; the next one runs all the same
                    LOG.exception("%s: a round failed", self.name)
                self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=30)
        self._thread = None
