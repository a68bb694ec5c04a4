"""Engine and session factory. SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def _sqlite_begin(conn: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN; take the write lock explicitly at BEGIN
    # IMMEDIATE so concurrent writers queue on busy_timeout instead of failing to upgrade a lock.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def _query_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only=1")


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    sqlite_immediate: bool = True,
    sqlite_autocheckpoint: bool = True,
    read_only: bool = False,
) -> Engine:
    """Create the engine; for SQLite, create the file's folder on first start.

    ``sqlite_immediate=False`` gives an engine for long reads (streamed exports), whose
    transactions take no write lock and read a snapshot (WAL). ``sqlite_autocheckpoint=False``
    leaves checkpoints to a :class:`~datahub.db.checkpoint.WalCheckpointer`. ``read_only``:
    every transaction refuses writes (SQLite ``query_only``, implying deferred transactions;
    PostgreSQL ``BEGIN READ ONLY``), so a reader that writes by mistake fails in the tests.
    """
    if make_url(url).get_backend_name() == "sqlite":
        database = sqlite_file(url)
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if not sqlite_autocheckpoint:
            event.listen(engine, "connect", _no_autocheckpoint)
        if read_only:
            event.listen(engine, "connect", _query_only)
            sqlite_immediate = False

        @event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin if sqlite_immediate else _sqlite_deferred)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        execution_options={"postgresql_readonly": True} if read_only else {},
    )


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other databases and in-memory ones)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)
