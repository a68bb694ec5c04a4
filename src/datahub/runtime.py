"""The long-lived parts of a running instance, built once from the settings.

Both composition roots (``create_app`` and the CLI) build one ``Runtime`` and hand its parts down.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from datahub.audit import service as audit
from datahub.audit.seals import SealKeeper
from datahub.carbon.indexing import forget_versions, index_version
from datahub.catalog.service import VersionsDeletedHook
from datahub.catalog.subscriptions import notify_new_version
from datahub.catalog.uploads import VersionHook
from datahub.db import generation  # noqa: F401  (its session hooks bump the data generation)
from datahub.db.checkpoint import WalCheckpointer
from datahub.db.engine import make_engine, make_session_factory, sqlite_file
from datahub.ingest.http import build_http_client
from datahub.licensing.registry import LicenceRegistry
from datahub.notifications.delivery import Delivery, Sender
from datahub.notifications.mail import Mailer
from datahub.resources import shipped_folder
from datahub.settings import Settings
from datahub.storage import Storage, scratch, storage_from_url


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    licences: LicenceRegistry
    storage: Storage
    #: The audit seals' signing key and storage copies (see datahub.audit.seals).
    seals: SealKeeper
    #: Scratch space for uploads on their way in (see datahub.storage.scratch).
    temp_dir: Path
    #: Run on every new dataset version inside its transaction (see catalog.uploads).
    version_hooks: list[VersionHook] = field(default_factory=list)
    #: Run when a dataset's versions are deleted, inside that transaction (see catalog.service).
    deletion_hooks: list[VersionsDeletedHook] = field(default_factory=list)
    #: SQLite in a serving process: checkpoints the WAL so that commits do not.
    checkpointer: WalCheckpointer | None = None
    #: A serving process: delivers the notification outbox (see datahub.notifications).
    sender: Sender | None = None
    _read_factory: sessionmaker[Session] | None = field(default=None, repr=False)
    _request_factory: sessionmaker[Session] | None = field(default=None, repr=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error."""
        with self.session_factory() as session, session.begin():
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for long reads such as streamed exports: no write lock, one snapshot."""
        if self.engine.dialect.name != "sqlite":
            with self.session_factory() as session, session.begin():
                yield session
            return
        if self._read_factory is None:
            reader = make_engine(self.settings.database_url, read_only=True)
            self._read_factory = make_session_factory(reader)
        with self._read_factory() as session, session.begin():
            yield session

    @contextmanager
    def read_transaction(self) -> Iterator[Session]:
        """The unit of work of a GET: it reads without taking any write lock.

        SQLite: a deferred, ``query_only`` transaction (a snapshot of the WAL), so an upload
        holding the write lock never stalls it. PostgreSQL: ``BEGIN READ ONLY``, on the read
        replica when ``DATAHUB_DATABASE_READ_URL`` is set. The audit events and open-read counts
        the read records are appended after it, in a short write transaction on the primary,
        before the response goes out: no data is served without its event. (Upgrading the read
        transaction instead would fail on SQLite whenever another writer committed meanwhile.)
        """
        with self._request_reader()() as session:
            with session.begin():
                yield session
                pending = audit.detach_pending(session)
        if pending:
            with self.transaction() as session:
                audit.attach_pending(session, pending)

    def _request_reader(self) -> sessionmaker[Session]:
        if self._request_factory is None:
            url = self.settings.database_read_url
            if url is not None:
                bind = make_engine(url, read_only=True)
            elif self.engine.dialect.name == "sqlite":
                bind = make_engine(self.settings.database_url, read_only=True)
            else:  # the primary's own pool, its transactions READ ONLY
                bind = self.engine.execution_options(postgresql_readonly=True)
            self._request_factory = make_session_factory(bind)
        return self._request_factory

    def close(self) -> None:
        if self.sender is not None:
            self.sender.stop()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()
        for factory in (self._read_factory, self._request_factory):
            bind = factory.kw.get("bind") if factory is not None else None
            if bind is not None and bind is not self.engine:
                bind.dispose()


def build_runtime(settings: Settings, *, serving: bool = False) -> Runtime:
    """``serving``: a long-lived process answering requests; on SQLite its commits then leave
    the WAL checkpoint to a thread (see datahub.db.checkpoint)."""
    database = sqlite_file(settings.database_url) if serving else None
    engine = make_engine(settings.database_url, sqlite_autocheckpoint=database is None)
    storage = storage_from_url(settings.storage_url, s3_endpoint_url=settings.s3_endpoint_url)
    temp_dir = scratch.root_for(settings, storage)
    scratch.sweep(temp_dir)  # what a killed upload or job left
    runtime = Runtime(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        licences=LicenceRegistry.load(shipped_folder("licenses"), settings.base_url),
        storage=storage,
        seals=SealKeeper(settings.audit_key_file, storage),
        temp_dir=temp_dir,
        version_hooks=[index_version, notify_new_version],
        deletion_hooks=[forget_versions],
        checkpointer=WalCheckpointer(database).start() if database is not None else None,
    )
    if serving:
        runtime.sender = Sender(
            notification_delivery(runtime), settings.notification_interval_seconds
        ).start()
    return runtime


def notification_delivery(runtime: Runtime) -> Delivery:
    """Mail through ``DATAHUB_SMTP_URL`` (none when unset), webhooks to public hosts only."""
    settings = runtime.settings
    smtp = settings.smtp_url.get_secret_value() if settings.smtp_url is not None else None
    return Delivery(
        transaction=runtime.transaction,
        mailer=Mailer.from_url(smtp, settings.mail_from) if smtp else None,
        http=build_http_client(
            "datahub-webhooks/1",
            max_attempts=1,
            allowed_hosts=frozenset(settings.webhook_allowed_hosts),
        ),
        base_url=settings.base_url,
    )
