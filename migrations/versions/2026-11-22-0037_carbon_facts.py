"""Carbon facts: pre-aggregated emissions, activity, land use, climate and factors.

Written at ingest by datahub.carbon.indexing; see datahub/db/models/carbon.py.

Revision ID: 3443482d49c7
Revises: ef1f0f0947c2
Create Date: 2026-11-22 00:37:04.121365
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3443482d49c7"
down_revision: str | None = "ef1f0f0947c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "carbon_activity_fact",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("factor", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("own", sa.Boolean(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("first_row", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_carbon_activity_fact_version_id_dataset_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "scope",
            "sector",
            "year",
            "version_id",
            "actor",
            "factor",
            "unit",
            "own",
            name=op.f("pk_carbon_activity_fact"),
        ),
    )
    op.create_index(
        "ix_carbon_activity_fact_actor", "carbon_activity_fact", ["actor", "own"], unique=False
    )
    op.create_index(
        "ix_carbon_activity_fact_version_id", "carbon_activity_fact", ["version_id"], unique=False
    )

    op.create_table(
        "carbon_climate_fact",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("territory", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("hdd", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_carbon_climate_fact_version_id_dataset_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "version_id", "territory", "year", name=op.f("pk_carbon_climate_fact")
        ),
    )
    op.create_index(
        "ix_carbon_climate_fact_territory",
        "carbon_climate_fact",
        ["territory", "year"],
        unique=False,
    )

    op.create_table(
        "carbon_emission_fact",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("ghg", sa.String(length=16), nullable=False),
        sa.Column("gas", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("own", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_carbon_emission_fact_version_id_dataset_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "scope",
            "sector",
            "year",
            "version_id",
            "ghg",
            "gas",
            "actor",
            "own",
            name=op.f("pk_carbon_emission_fact"),
        ),
    )
    op.create_index(
        "ix_carbon_emission_fact_actor", "carbon_emission_fact", ["actor", "own"], unique=False
    )
    op.create_index(
        "ix_carbon_emission_fact_version_id", "carbon_emission_fact", ["version_id"], unique=False
    )

    op.create_table(
        "carbon_emission_factor",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("factor_id", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_carbon_emission_factor_version_id_dataset_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "row_number", name=op.f("pk_carbon_emission_factor")),
    )
    op.create_index(
        "ix_carbon_emission_factor_factor_id", "carbon_emission_factor", ["factor_id"], unique=False
    )

    op.create_table(
        "carbon_land_fact",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("own", sa.Boolean(), nullable=False),
        sa.Column("area_ha", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_carbon_land_fact_version_id_dataset_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "scope", "year", "version_id", "kind", "key", "own", name=op.f("pk_carbon_land_fact")
        ),
    )
    op.create_index(
        "ix_carbon_land_fact_version_id", "carbon_land_fact", ["version_id"], unique=False
    )

    op.create_table(
        "carbon_rollup_edge",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("territory", sa.String(length=64), nullable=False),
        sa.Column("ancestor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_carbon_rollup_edge_version_id_dataset_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "version_id", "territory", "ancestor", name=op.f("pk_carbon_rollup_edge")
        ),
    )
    op.create_index(
        "ix_carbon_rollup_edge_ancestor",
        "carbon_rollup_edge",
        ["ancestor", "territory"],
        unique=False,
    )

    op.create_table(
        "carbon_sequestration_factor",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("territory", sa.String(length=64), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_carbon_sequestration_factor_version_id_dataset_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "version_id", "row_number", name=op.f("pk_carbon_sequestration_factor")
        ),
    )
    op.create_index(
        "ix_carbon_sequestration_factor_territory",
        "carbon_sequestration_factor",
        ["territory"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_carbon_sequestration_factor_territory", table_name="carbon_sequestration_factor"
    )

    op.drop_table("carbon_sequestration_factor")
    op.drop_index("ix_carbon_rollup_edge_ancestor", table_name="carbon_rollup_edge")

    op.drop_table("carbon_rollup_edge")
    op.drop_index("ix_carbon_land_fact_version_id", table_name="carbon_land_fact")

    op.drop_table("carbon_land_fact")
    op.drop_index("ix_carbon_emission_factor_factor_id", table_name="carbon_emission_factor")

    op.drop_table("carbon_emission_factor")
    op.drop_index("ix_carbon_emission_fact_version_id", table_name="carbon_emission_fact")
    op.drop_index("ix_carbon_emission_fact_actor", table_name="carbon_emission_fact")

    op.drop_table("carbon_emission_fact")
    op.drop_index("ix_carbon_climate_fact_territory", table_name="carbon_climate_fact")

    op.drop_table("carbon_climate_fact")
    op.drop_index("ix_carbon_activity_fact_version_id", table_name="carbon_activity_fact")
    op.drop_index("ix_carbon_activity_fact_actor", table_name="carbon_activity_fact")

    op.drop_table("carbon_activity_fact")
