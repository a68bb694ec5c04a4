"""Delivering the outbox: claim due messages, send them outside any transaction, record the
outcome; failures are retried with exponential back-off, up to :data:`MAX_ATTEMPTS`.

Claiming moves a message's next attempt a lease into the future, so two senders (API processes
and workers share the database) never send the same message twice at once, and a sender that
dies mid-send leaves the message to be retried when its lease runs out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import httpx
from sqlalchemy.orm import Session

from datahub.db.models import Notification
from datahub.notifications import repository
from datahub.notifications.mail import Mailer
from datahub.notifications.messages import render_mail
from datahub.notifications.service import EMAIL

log = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 8
LEASE: Final = timedelta(minutes=5)
BATCH: Final = 50
SIGNATURE_HEADER: Final = "X-Datahub-Signature-256"

Transaction = Callable[[], AbstractContextManager[Session]]


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC>`` of the body: the receiver recomputes it with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 6 h."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: str
    event: str
    recipient: str
    body: str
    secret: str | None


@dataclass
class Delivery:
    transaction: Transaction
    mailer: Mailer | None
    http: httpx.Client
    base_url: str

    def run_once(self, now: datetime | None = None) -> int:
        """Send what is due; returns how many messages were delivered."""
        now = now or datetime.now(UTC)
        delivered = 0
        for message in self._claim(now):
            try:
                self._send(message)
            except Exception as exc:  # any failure of the far side: retried later
                log.warning("notification %s to %s failed: %s", message.id, message.recipient, exc)
                self._record(message.id, error=f"{type(exc).__name__}: {exc}"[:2000])
            else:
                self._record(message.id, error=None)
                delivered += 1
        return delivered

    def _claim(self, now: datetime) -> Iterator[_Claimed]:
        claimed: list[_Claimed] = []
        with self.transaction() as session:
            for row in repository.due(session, now, MAX_ATTEMPTS, BATCH):
                if row.channel == EMAIL and self.mailer is None:
                    continue  # mail is off on this instance: kept until it is configured
                row.next_attempt_at = now + LEASE
                claimed.append(_claimed(session, row))
        return iter(claimed)

    def _send(self, message: _Claimed) -> None:
        if message.channel == EMAIL:
            assert self.mailer is not None
            told = json.loads(message.body)
            subject, text = render_mail(told["event"], told["data"], self.base_url)
            self.mailer.send(message.recipient, subject, text)
            return
        body = message.body.encode()
        response = self.http.post(
            message.recipient,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Datahub-Event": message.event,
                "X-Datahub-Delivery": str(message.id),
                SIGNATURE_HEADER: signature(message.secret or "", body),
            },
        )
        response.raise_for_status()

    def _record(self, message_id: int, error: str | None) -> None:
        now = datetime.now(UTC)
        with self.transaction() as session:
            row = session.get(Notification, message_id)
            if row is None:
                return
            row.attempts += 1
            if error is None:
                row.sent_at, row.last_error = now, None
            else:
                row.last_error = error
                row.next_attempt_at = now + backoff(row.attempts)


def _claimed(session: Session, row: Notification) -> _Claimed:
    hook = repository.get_webhook(session, row.webhook_id) if row.webhook_id else None
    return _Claimed(
        id=row.id,
        channel=row.channel,
        event=row.event,
        recipient=row.recipient,
        body=row.body,
        secret=hook.secret if hook is not None else None,
    )


class Sender:
    """Runs :meth:`Delivery.run_once` every ``interval`` seconds in a thread of its own."""

    def __init__(self, delivery: Delivery, interval: float) -> None:
        self.delivery = delivery
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="datahub-notify", daemon=True)

    def start(self) -> Sender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.delivery.http.close()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.delivery.run_once()
            except Exception:  # e.g. SQLite busy: the next round tries again
                log.debug("notification round skipped", exc_info=True)
