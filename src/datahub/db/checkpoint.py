"""SQLite: checkpoint the write-ahead log from a thread of its own, so that commits do not.

SQLite copies the WAL back into the database in whichever connection commits past 1,000 WAL
pages: the request that stored a large upload waited for it (~0.1 s per 50 MB). A process that
serves requests turns that off on its connections (``PRAGMA wal_autocheckpoint=0``, see
:func:`datahub.db.engine.make_engine`) and runs a :class:`WalCheckpointer` instead. Short-lived
commands keep SQLite's default.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

#: Seconds between checkpoints; a passive checkpoint of an up-to-date log costs next to nothing.
INTERVAL: Final = 1.0


class WalCheckpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` on ``path`` every ``interval`` seconds.

    Passive: it never waits for readers or writers, it copies what it can and tries again.
    """

    def __init__(self, path: Path, interval: float = INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="datahub-wal-checkpoint", daemon=True
        )

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=0, check_same_thread=False)
        try:
            while not self._stop.wait(self.interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # busy or locked: the next round tries again
                    log.debug("WAL checkpoint skipped: %s", exc)
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            log.warning("WAL checkpoint failed: %s", exc)
        finally:
            connection.close()
