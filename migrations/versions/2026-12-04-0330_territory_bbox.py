"""Territories keep their bounding box in four columns, so ``bbox=`` filters run in SQL.

OGC API - Features and the GeoJSON lists filter by bounding box on both backends; SQLite stores
geometries as WKB (no spatial functions), so the box is kept beside the geometry, written with
it, and backfilled here from the stored geometries.

Revision ID: 9e4b7a2c1d30
Revises: 9d4f1a7c3e21
Create Date: 2026-12-04 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import datahub.db.types

revision: str = "9e4b7a2c1d30"
down_revision: str | None = "9d4f1a7c3e21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("bbox_west", "bbox_south", "bbox_east", "bbox_north")


def upgrade() -> None:
    with op.batch_alter_table("territory") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))
    territory = sa.table(
        "territory",
        sa.column("code", sa.String()),
        sa.column("geometry", datahub.db.types.Geometry()),
        *(sa.column(name, sa.Float()) for name in COLUMNS),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(territory.c.code, territory.c.geometry).where(territory.c.geometry.is_not(None))
    ).all()
    for code, geometry in rows:
        values = dict(zip(COLUMNS, geometry.bounds, strict=True))
        connection.execute(territory.update().where(territory.c.code == code).values(**values))
    op.create_index("ix_territory_bbox", "territory", ["bbox_west", "bbox_east"])


def downgrade() -> None:
    op.drop_index("ix_territory_bbox", table_name="territory")
    with op.batch_alter_table("territory") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
