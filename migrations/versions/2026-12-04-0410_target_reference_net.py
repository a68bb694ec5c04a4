"""A target keeps its reference figure: ``target.reference_net``, the reference year's net as it
stood when the target was set, so every caller is shown the same target path.

Revision ID: 9d4f1a7c3e21
Revises: 3f8a2c61d0e7
Create Date: 2026-12-04 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d4f1a7c3e21"
down_revision: str | None = "3f8a2c61d0e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("target") as batch:
        batch.add_column(sa.Column("reference_net", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("target") as batch:
        batch.drop_column("reference_net")
