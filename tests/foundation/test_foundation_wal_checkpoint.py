"""SQLite in a serving process: commits leave the WAL checkpoint to a thread of its own."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from datahub.app import create_app
from datahub.db.checkpoint import WalCheckpointer
from datahub.db.engine import make_engine, sqlite_file
from datahub.runtime import build_runtime
from datahub.settings import Settings
from tests.conftest import on_postgres

pytestmark = pytest.mark.skipif(on_postgres(), reason="SQLite's write-ahead log")

#: ~8 MB: 2,000 pages of 4 KiB, past the 1,000 pages at which SQLite checkpoints on commit.
BALLAST = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
    "INSERT INTO ballast SELECT randomblob(4000) FROM n"
)


def _write_ballast(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE ballast (x BLOB)")
        connection.exec_driver_sql(BALLAST)


def _autocheckpoint(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def test_commits_without_autocheckpoint_leave_the_log_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    engine = make_engine(f"sqlite:///{path}", sqlite_autocheckpoint=False)
    try:
        _write_ballast(engine)
        # The commit copied nothing back: the 8 MB are in the log, the database file is small.
        assert path.stat().st_size < 1 << 20
        assert Path(f"{path}-wal").stat().st_size > 8_000_000
        checkpointer = WalCheckpointer(path, interval=0.05).start()
        try:
            deadline = time.monotonic() + 10
            while path.stat().st_size < 8_000_000 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            checkpointer.stop()
        assert path.stat().st_size > 8_000_000  # the thread copied the log into the database
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM ballast").scalar_one() == 2000
    finally:
        engine.dispose()


def test_the_default_engine_still_checkpoints_on_commit(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert _autocheckpoint(engine) == 1000
        _write_ballast(engine)
        assert path.stat().st_size > 8_000_000
    finally:
        engine.dispose()


def test_only_the_serving_process_turns_autocheckpoint_off(settings: Settings) -> None:
    assert sqlite_file(settings.database_url) is not None
    command = build_runtime(settings)
    try:
        assert command.checkpointer is None
        assert _autocheckpoint(command.engine) == 1000
    finally:
        command.close()
    with TestClient(create_app(settings)) as client:
        served = client.app.state.runtime  # type: ignore[attr-defined]
        assert served.checkpointer is not None
        assert _autocheckpoint(served.engine) == 0
        assert client.get("/api/v1/health").status_code == 200
