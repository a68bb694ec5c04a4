"""Test fixtures: a real database per test, on SQLite or PostgreSQL/PostGIS.

Set ``DATAHUB_TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1/postgres``) to run
the whole suite on PostgreSQL: the server named there gets a migrated template database, cloned for
each test. Without it, each test gets a copy of a migrated SQLite file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from datahub.accounts import service as accounts
from datahub.accounts.schemas import OrganizationCreate, UserCreate
from datahub.app import create_app
from datahub.db import migrate
from datahub.runtime import Runtime, build_runtime
from datahub.settings import Settings
from tests.liveserver import live_server  # noqa: F401  (a fixture shared by all tests)
from tests.s3server import s3_server  # noqa: F401  (a session fixture shared by all tests)

PG_URL = os.environ.get("DATAHUB_TEST_DATABASE_URL")


def pytest_report_header() -> str:
    return f"datahub test database: {'PostgreSQL ' + str(make_url(PG_URL)) if PG_URL else 'SQLite'}"


def _admin_execute(sql: str) -> None:
    assert PG_URL is not None
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


def _pg_url(database: str) -> str:
    assert PG_URL is not None
    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def worker_id_safe(request: pytest.FixtureRequest) -> str:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return f"{worker}_{os.getpid()}"


@pytest.fixture(scope="session")
def template_url(worker_id_safe: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head once per test session (and xdist worker)."""
    if PG_URL:
        name = f"datahub_tpl_{worker_id_safe}"
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin_execute(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
        migrate.upgrade(url)
        yield url
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{path}"
        migrate.upgrade(url)
        yield url


def fresh_database(template_url: str, directory: Path) -> tuple[str, Callable[[], None]]:
    """A new database cloned from the template; returns its URL and a function dropping it."""
    if PG_URL:
        name = f"datahub_t_{uuid.uuid4().hex[:12]}"
        template = make_url(template_url).database
        _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return _pg_url(name), lambda: _admin_execute(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        )
    source = make_url(template_url).database
    assert source is not None
    target = directory / f"datahub-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(source, target)
    return f"sqlite:///{target}", lambda: None


@pytest.fixture
def database_url(template_url: str, tmp_path: Path) -> Iterator[str]:
    url, drop = fresh_database(template_url, tmp_path)
    yield url
    drop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        storage_url=f"file://{tmp_path / 'files'}",
        audit_key_file=tmp_path / "audit-key.pem",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class Persona:
    email: str
    organization: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_user(runtime: Runtime) -> Callable[..., Persona]:
    """Create (or reuse) an organisation and a user with a role; returns the user's token."""

    def make(role: str, org: str, *, member: bool = False, email: str | None = None) -> Persona:
        email = email or f"{role}-{uuid.uuid4().hex[:6]}@{org}.example.org"
        with runtime.transaction() as session:
            if accounts.repository.get_organization(session, org) is None:
                accounts.create_organization(
                    session, OrganizationCreate(id=org, name=org.upper(), member=member)
                )
            _user, token = accounts.create_user(
                session,
                UserCreate(email=email, organization_id=org, role=role),  # type: ignore[arg-type]
            )
        return Persona(email=email, organization=org, role=role, token=token)

    return make


@pytest.fixture
def admin(make_user: Callable[..., Persona]) -> Persona:
    return make_user("admin", "hub-operator", member=True)


def on_postgres() -> bool:
    return PG_URL is not None
