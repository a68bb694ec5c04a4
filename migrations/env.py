"""Alembic environment: online migrations only, under a lock so hosts can upgrade at once."""

from __future__ import annotations

import os
from typing import Any

from alembic import context
from sqlalchemy import Connection, text

from datahub.db import models  # noqa: F401  (registers every table on the metadata)
from datahub.db.base import Base
from datahub.db.engine import make_engine
from datahub.db.types import Geometry

# An arbitrary constant: the PostgreSQL advisory lock that serialises concurrent upgrades.
MIGRATION_LOCK_ID = 7_041_700_434

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    return url or os.environ.get("DATAHUB_DATABASE_URL", "sqlite:///./datahub.db")


def _compare_type(
    _context: Any, _inspected: Any, _metadata: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    # Our Geometry type is WKB bytes on SQLite and a PostGIS column on PostgreSQL: both are right.
    if isinstance(metadata_type, Geometry):
        return False
    return None


# Spatial (GiST) indexes exist on PostgreSQL only; the migrations create them there.
POSTGIS_ONLY_INDEXES = {"ix_territory_geometry", "ix_actor_location"}


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, _compare: Any) -> bool:
    # PostGIS and SpatiaLite bring their own tables; they are not ours to manage.
    if type_ == "table" and reflected and name not in target_metadata.tables:
        return False
    return not (type_ == "index" and name in POSTGIS_ONLY_INDEXES)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=_compare_type,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url(), pool_size=1)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
            try:
                _run(connection)
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID}
                )
                connection.commit()
        else:
            # SQLite DDL is not transactional for Alembic by default, so each migration would
            # commit on its own and a second host could read a stale version between two of
            # them. One outer transaction (BEGIN IMMEDIATE: the write lock) makes the whole
            # upgrade atomic and queues the other hosts on busy_timeout.
            with connection.begin():
                _run(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("datahub migrations run online only")
run_migrations_online()
