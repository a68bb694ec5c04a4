"""The notification outbox, organisations' webhooks and readers' subscriptions to new versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from datahub.db.base import Base
from datahub.db.models._common import utcnow
from datahub.db.types import UTCDateTime


class Notification(Base):
    """One message to deliver: written in the transaction of the event it tells of (an outbox),
    delivered afterwards by a background sender, so a slow mail server never slows a request."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # "email" | "webhook"
    event: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(2048))  # an e-mail address or a webhook URL
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)  # JSON {"event", "data"}; mail is rendered from it
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Webhook(Base):
    """An organisation's endpoint for the hub's events, with the secret that signs each body."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetSubscription(Base):
    """A user who asked to be told of each new version of a dataset."""

    __tablename__ = "dataset_subscription"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
