"""Actor indexes of carbon facts leave the territorial inventory out (``actor <> ''``).

Every inventory fact had the same key ``("", true)`` in these indexes; writing a large upload's
facts spent more time piling onto that one key than on the primary key. Actor trajectories,
the only readers, always name an actor.

Revision ID: 7c3e9a1d2b45
Revises: 5b0d2f6c9e14
Create Date: 2026-11-22 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3e9a1d2b45"
down_revision: str | None = "5b0d2f6c9e14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("carbon_emission_fact", "carbon_activity_fact")


def upgrade() -> None:
    only_actors = sa.text("actor <> ''")
    for table in TABLES:
        op.drop_index(f"ix_{table}_actor", table_name=table)
        op.create_index(
            f"ix_{table}_actor",
            table,
            ["actor", "own"],
            postgresql_where=only_actors,
            sqlite_where=only_actors,
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_actor", table_name=table)
        op.create_index(f"ix_{table}_actor", table, ["actor", "own"])
