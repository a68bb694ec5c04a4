"""Territories' action plans, one row per version, and actors' own targets (contract §8).

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
    op.create_table(
        "actor_target",
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("reference_year", sa.Integer(), nullable=False),
        sa.Column("target_year", sa.Integer(), nullable=False),
        sa.Column("target_net", sa.Float(), nullable=False),
        sa.Column("pathway", sa.String(length=16), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actor.id"],
            name=op.f("fk_actor_target_actor_id_actor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("actor_id", name=op.f("pk_actor_target")),
    )


def downgrade() -> None:
    op.drop_table("actor_target")
    op.drop_table("plan_version")
