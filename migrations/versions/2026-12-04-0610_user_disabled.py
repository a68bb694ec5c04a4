"""Users an admin disabled: no API token, session or password signs them in.

Revision ID: 3c9d1e7f2a40
Revises: 7c2e9a4b1d30
Create Date: 2026-12-04 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from datahub.db.types import UTCDateTime

revision: str = "3c9d1e7f2a40"
down_revision: str | None = "7c2e9a4b1d30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("disabled_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("disabled_at")
