"""Territories' action plans, one row per version (contract §8).

Revision ID: 3f1a8c7d9e20
Revises: 4d1f0b7a9c21
Create Date: 2026-12-04 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from datahub.db.types import UTCDateTime

revision: str = "3f1a8c7d9e20"
down_revision: str | None = "4d1f0b7a9c21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_version",
        sa.Column("territory_code", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "actions", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["territory_code"],
            ["territory.code"],
            name=op.f("fk_plan_version_territory_code_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("territory_code", "number", name=op.f("pk_plan_version")),
    )


def downgrade() -> None:
    op.drop_table("plan_version")
