"""Token labels and last use, and the reason an access request was decided with.

``api_token.label`` names a token for its owner (``/me`` lists them); ``api_token.last_used_at``
is when it last authenticated a request, to the minute (see ``accounts.service.TOKEN_USE_STEP``).
``access_request.reason`` keeps the producer's words so the requester reads them on
``/access-requests`` (until now they were only in the audit log and the mail).

Revision ID: 7c2e9a4b1d30
Revises: 5b7e0d2a9c14
Create Date: 2026-12-04 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from datahub.db.types import UTCDateTime

revision: str = "7c2e9a4b1d30"
down_revision: str | None = "5b7e0d2a9c14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(
            sa.Column("label", sa.String(length=100), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("last_used_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("access_request") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("access_request") as batch:
        batch.drop_column("reason")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("label")
