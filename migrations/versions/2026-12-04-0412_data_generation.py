"""A generation counter per family of cached results (``carbon``: territories, actors, targets,
facts), bumped by the transactions that change them, read by the trajectory cache.

Revision ID: 3f8a61c0d2e7
Revises: 9e4b7a2c1d30
Create Date: 2026-12-04 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f8a61c0d2e7"
down_revision: str | None = "9e4b7a2c1d30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_generation",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_generation")),
    )


def downgrade() -> None:
    op.drop_table("data_generation")
