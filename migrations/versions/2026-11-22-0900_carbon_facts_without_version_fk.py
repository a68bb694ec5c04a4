"""Carbon facts without a foreign key to their dataset version.

The facts are derived data, deleted by the carbon engine with their version (see
datahub/db/models/carbon.py); the per-row foreign key check cost a third of the time to write a
large upload's facts on PostgreSQL.

Revision ID: 5b0d2f6c9e14
Revises: 912887c0a777
Create Date: 2026-11-22 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b0d2f6c9e14"
down_revision: str | None = "912887c0a777"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "carbon_activity_fact",
    "carbon_climate_fact",
    "carbon_emission_fact",
    "carbon_emission_factor",
    "carbon_land_fact",
    "carbon_rollup_edge",
    "carbon_sequestration_factor",
)


def _fk(table: str) -> str:
    return f"fk_{table}_version_id_dataset_version"


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(_fk(table), type_="foreignkey")


def downgrade() -> None:
    # Facts of versions deleted meanwhile would break the constraint: they go first.
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE version_id NOT IN (SELECT id FROM dataset_version)")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                _fk(table), "dataset_version", ["version_id"], ["id"], ondelete="CASCADE"
            )
