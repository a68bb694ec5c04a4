"""`datahub db upgrade` from several hosts at once: four processes on one empty database."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from datahub.db import migrate
from datahub.db.base import Base
from tests.conftest import PG_URL
from tests.deployment.server import ROOT, environment

PROCESSES = 4


def _admin(sql: str) -> None:
    assert PG_URL is not None
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new database with no table at all (not a clone of the migrated template)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    if PG_URL is None:
        pytest.skip("set DATAHUB_TEST_DATABASE_URL to run on PostgreSQL")
    name = f"datahub_upg_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_concurrent_upgrades_all_succeed_and_apply_each_migration_once(
    empty_database: str, tmp_path: Path
) -> None:
    env = environment(empty_database, tmp_path / "files")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "datahub.cli", "db", "upgrade"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outcomes = [(p.wait(timeout=180), p.communicate()[1]) for p in processes]
    assert [code for code, _ in outcomes] == [0] * PROCESSES, "\n".join(e for _, e in outcomes)

    engine = create_engine(empty_database)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            assert [row[0] for row in versions] == [migrate.current_head()]
            if engine.dialect.name == "postgresql":
                names = connection.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                    )
                ).scalars()
            else:
                names = connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'table'")
                ).scalars()
            tables = list(names)
        # Every table of the models exists exactly once, and nothing else of ours was made.
        ours = [t for t in tables if t in Base.metadata.tables or t == "alembic_version"]
        assert sorted(ours) == sorted([*Base.metadata.tables, "alembic_version"])
    finally:
        engine.dispose()
    # A fifth upgrade later (a restart) has nothing to do and succeeds too.
    again = subprocess.run(
        [sys.executable, "-m", "datahub.cli", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
