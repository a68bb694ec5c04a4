"""Migrations are the schema: round trip to base and back, and no drift from the models."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from datahub.db import migrate
from datahub.db.base import Base
from datahub.db.engine import make_engine
from tests.conftest import fresh_database


def test_upgrade_downgrade_round_trip(template_url: str, tmp_path: Path) -> None:
    url, drop = fresh_database(template_url, tmp_path)
    try:
        migrate.downgrade(url, "base")
        engine = make_engine(url)
        tables = set(inspect(engine).get_table_names())
        assert not tables & set(Base.metadata.tables), "downgrade left our tables behind"
        migrate.upgrade(url)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        engine.dispose()
    finally:
        drop()


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    # `alembic check` raises if autogenerate would produce any operation.
    command.check(migrate.alembic_config(database_url))
