"""Reference designations: the datasets an admin made the instance's reference data per kind.

Revision ID: 5b7e0d2a9c14
Revises: a71c5e0d9b3f
Create Date: 2026-12-04 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b7e0d2a9c14"
down_revision: str | None = "a71c5e0d9b3f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reference_designation",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_reference_designation_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "dataset_id", name=op.f("pk_reference_designation")),
    )


def downgrade() -> None:
    op.drop_table("reference_designation")
