"""Notifications: the outbox of e-mails and webhook calls, webhooks, subscriptions to versions.

Revision ID: 4d1f0b7a9c21
Revises: 7c3e9a1d2b45
Create Date: 2026-12-04 03:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import datahub.db.types

revision: str = "4d1f0b7a9c21"
down_revision: str | None = "7c3e9a1d2b45"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool) -> sa.Column[sa.DateTime]:
    return sa.Column(name, datahub.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        _at("created_at", False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_webhook_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook")),
    )
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=2048), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at", False),
        _at("sent_at", True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _at("created_at", False),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhook.id"],
            name=op.f("fk_notification_webhook_id_webhook"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_next_attempt_at"), ["next_attempt_at"], unique=False
        )
    op.create_table(
        "dataset_subscription",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        _at("created_at", False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_subscription_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_dataset_subscription_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "dataset_id", name=op.f("pk_dataset_subscription")),
    )


def downgrade() -> None:
    op.drop_table("dataset_subscription")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_next_attempt_at"))
    op.drop_table("notification")
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_organization_id"))
    op.drop_table("webhook")
