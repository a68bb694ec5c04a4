"""Writing messages to the outbox, and the webhooks and subscriptions that decide who gets them.

Called inside the transaction of the event itself; nothing here talks to the network.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Iterable, Sequence
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from datahub.accounts import service as accounts
from datahub.db.models import DatasetSubscription, Notification, Webhook
from datahub.errors import FieldError, NotFound, ValidationFailed
from datahub.notifications import repository
from datahub.notifications.messages import Message

EMAIL = "email"
WEBHOOK = "webhook"


def body_of(message: Message) -> str:
    """What the outbox stores of a message: its event and data, as canonical JSON."""
    return json.dumps(
        {"event": message.event, "data": message.data}, ensure_ascii=False, sort_keys=True
    )


def enqueue_mail(session: Session, message: Message, recipients: Iterable[str]) -> int:
    """One e-mail per distinct recipient (rendered when sent); returns how many were queued."""
    addresses = sorted(set(recipients))
    for address in addresses:
        session.add(
            Notification(
                channel=EMAIL, event=message.event, recipient=address, body=body_of(message)
            )
        )
    return len(addresses)


def enqueue_webhooks(session: Session, message: Message, organization_ids: Collection[str]) -> int:
    """One signed POST per webhook of the organisations named; returns how many were queued."""
    hooks = repository.webhooks_of(session, organization_ids)
    for hook in hooks:
        session.add(
            Notification(
                channel=WEBHOOK,
                event=message.event,
                recipient=hook.url,
                webhook_id=hook.id,
                body=body_of(message),
            )
        )
    return len(hooks)


def notify(
    session: Session,
    message: Message,
    *,
    emails: Iterable[str] = (),
    organizations: Collection[str] = (),
) -> None:
    """An event told by mail to ``emails`` and by webhook to ``organizations``."""
    enqueue_mail(session, message, emails)
    enqueue_webhooks(session, message, organizations)


# --- webhooks ---------------------------------------------------------------------------------


def add_webhook(session: Session, organization_id: str, url: str) -> tuple[Webhook, str]:
    """Register an endpoint; returns it with its signing secret, shown to the caller once."""
    accounts.get_organization(session, organization_id)  # 404 for an unknown organisation
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationFailed(
            "not a webhook URL",
            errors=[FieldError(None, "url", "expected an absolute http(s) URL")],
        )
    secret = secrets.token_hex(32)
    hook = Webhook(organization_id=organization_id, url=url, secret=secret)
    session.add(hook)
    session.flush()
    return hook, secret


def list_webhooks(session: Session, organization_id: str) -> Sequence[Webhook]:
    return repository.webhooks_of(session, [organization_id])


def remove_webhook(session: Session, organization_id: str, webhook_id: int) -> None:
    hook = repository.get_webhook(session, webhook_id)
    if hook is None or hook.organization_id != organization_id:
        raise NotFound(f"no webhook {webhook_id} for {organization_id}")
    session.delete(hook)


# --- subscriptions to new versions -------------------------------------------------------------


def subscribe(session: Session, user_id: int, dataset_id: str) -> None:
    if repository.get_subscription(session, user_id, dataset_id) is None:
        session.add(DatasetSubscription(user_id=user_id, dataset_id=dataset_id))
        session.flush()


def unsubscribe(session: Session, user_id: int, dataset_id: str) -> None:
    repository.delete_subscription(session, user_id, dataset_id)


def is_subscribed(session: Session, user_id: int, dataset_id: str) -> bool:
    return repository.get_subscription(session, user_id, dataset_id) is not None


def subscriber_ids(session: Session, dataset_id: str) -> Sequence[int]:
    return repository.subscriber_ids(session, dataset_id)
