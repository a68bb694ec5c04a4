"""The server's own sealing: a thread that seals the chain head every ``minutes``.

It looks once a minute (or more often when ``minutes`` is shorter) and seals when the oldest event
no seal covers has waited ``minutes``: a server restarted more often than that still seals, and an
idle one adds no seals. Several processes may run one; the append lock lets one seal at a time.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from datahub.audit import sealing
from datahub.audit.seals import Seal, SealKeeper

log = logging.getLogger(__name__)


class PeriodicSealer:
    def __init__(
        self, transaction: sealing.Transaction, keeper: SealKeeper, minutes: float
    ) -> None:
        self.transaction = transaction
        self.keeper = keeper
        self.due_after = timedelta(minutes=minutes)
        self.interval = min(minutes * 60, 60.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="datahub-audit-sealer", daemon=True)

    def start(self) -> PeriodicSealer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def seal_if_due(self) -> Seal | None:
        try:
            made = sealing.seal(self.transaction, self.keeper, due_after=self.due_after)
        except Exception:  # the database or storage may be away for a while: try next time
            log.exception("audit seal failed")
            return None
        if made is not None:
            log.info("audit chain sealed at event %s", made.seq)
        return made

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.seal_if_due()
