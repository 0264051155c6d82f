"""Hot reload: a thread that polls the store and swaps in a good new snapshot.

A change that does not load (a parse error, a schema violation...) leaves the snapshot in
service untouched; :meth:`StoreHolder.reload` logs why and keeps the reason for the admin
status endpoint. The PostgreSQL store also wakes this thread on NOTIFY (see
:mod:`cedarlang_serve.pg_store`), so polling is only its fallback.
"""

from __future__ import annotations

import logging
import threading

from .store import StoreHolder

log = logging.getLogger("cedarlang_serve.reload")


class Reloader:
    def __init__(self, holder: StoreHolder, interval: float) -> None:
        self.holder = holder
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cedar-serve-reload", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Check now (a change was announced)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            announced = self._wake.is_set()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                if announced or self.holder.backend.changed():
                    self.holder.reload()
            except Exception:  # the thread must survive anything a backend raises
                log.exception("checking the policy store failed")
