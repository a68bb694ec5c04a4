"""All SQL of the outbox, webhooks and subscriptions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from datahub.db.models import DatasetSubscription, Notification, Webhook


def due(session: Session, now: datetime, max_attempts: int, limit: int) -> Sequence[Notification]:
    """Undelivered messages whose next attempt is due, oldest first, locked for this sender."""
    return session.scalars(
        select(Notification)
        .where(
            Notification.sent_at.is_(None),
            Notification.attempts < max_attempts,
            Notification.next_attempt_at <= now,
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def already_queued(session: Session, event: str, body: str) -> bool:
    """Whether a message of ``event`` with exactly this body was ever queued (sent or not)."""
    found = session.scalar(
        select(Notification.id)
        .where(Notification.event == event, Notification.body == body)
        .limit(1)
    )
    return found is not None


def webhooks_of(session: Session, organization_ids: Collection[str]) -> Sequence[Webhook]:
    if not organization_ids:
        return []
    return session.scalars(
        select(Webhook).where(Webhook.organization_id.in_(organization_ids)).order_by(Webhook.id)
    ).all()


def get_webhook(session: Session, webhook_id: int) -> Webhook | None:
    return session.get(Webhook, webhook_id)


def subscriber_ids(session: Session, dataset_id: str) -> Sequence[int]:
    return session.scalars(
        select(DatasetSubscription.user_id)
        .where(DatasetSubscription.dataset_id == dataset_id)
        .order_by(DatasetSubscription.user_id)
    ).all()


def get_subscription(session: Session, user_id: int, dataset_id: str) -> DatasetSubscription | None:
    return session.get(DatasetSubscription, (user_id, dataset_id))


def delete_subscription(session: Session, user_id: int, dataset_id: str) -> None:
    session.execute(
        delete(DatasetSubscription).where(
            DatasetSubscription.user_id == user_id, DatasetSubscription.dataset_id == dataset_id
        )
    )
