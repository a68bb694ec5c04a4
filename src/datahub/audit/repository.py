"""SQL for the audit log. Appends are serialised so concurrent writers never fork the chain."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from datahub.db.models import AuditEvent, AuditSeal, OpenReadCount

# PostgreSQL advisory lock serialising appends (held to the end of the appending transaction).
APPEND_LOCK_ID = 6_041_700_434


def lock_and_last(session: Session) -> tuple[int, str | None]:
    """Take the append lock and return the last ``(seq, hash)``.

    On SQLite every write transaction already holds the database's single write lock
    (``BEGIN IMMEDIATE``), which serialises appends the same way.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": APPEND_LOCK_ID})
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (0, None) if last is None else (int(last[0]), str(last[1]))


def head(session: Session) -> AuditEvent | None:
    return session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()


def occurred_at(session: Session, seq: int) -> datetime | None:
    return session.scalar(select(AuditEvent.occurred_at).where(AuditEvent.seq == seq))


def add(session: Session, event: AuditEvent) -> None:
    session.add(event)
    session.flush()


def filtered(
    *,
    dataset: str | None,
    organization: str | None,
    action: str | None,
    outcome: str | None,
    since: datetime | None,
    until: datetime | None,
    basis: str | None = None,
) -> Select[Any]:
    query = select(AuditEvent)
    if dataset is not None:
        query = query.where(AuditEvent.dataset_id == dataset)
    if organization is not None:
        query = query.where(AuditEvent.organization_id == organization)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if outcome is not None:
        query = query.where(AuditEvent.outcome == outcome)
    if basis is not None:
        query = query.where(AuditEvent.basis == basis)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until)
    return query.order_by(AuditEvent.seq)


def page(session: Session, query: Select[Any], offset: int, limit: int) -> Sequence[AuditEvent]:
    return list(session.scalars(query.offset(offset).limit(limit)))


def stream(session: Session, query: Select[Any]) -> Iterator[AuditEvent]:
    yield from session.scalars(query.execution_options(yield_per=1000))


def all_in_order(session: Session) -> Iterator[AuditEvent]:
    yield from session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000)
    )


def count_open_read(
    session: Session, dataset_id: str, day: date, rows: int, *, reads: int = 1
) -> None:
    dialect = session.get_bind().dialect.name
    insert: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(OpenReadCount).values(dataset_id=dataset_id, day=day, reads=reads, rows=rows)
    statement = statement.on_conflict_do_update(
        index_elements=[OpenReadCount.dataset_id, OpenReadCount.day],
        set_={
            "reads": OpenReadCount.reads + statement.excluded.reads,
            "rows": OpenReadCount.rows + statement.excluded.rows,
        },
    )
    session.execute(statement)


def open_read_counts(
    session: Session, since: date | None, until: date | None
) -> Sequence[OpenReadCount]:
    query = select(OpenReadCount)
    if since is not None:
        query = query.where(OpenReadCount.day >= since)
    if until is not None:
        query = query.where(OpenReadCount.day < until)
    return session.scalars(query.order_by(OpenReadCount.dataset_id, OpenReadCount.day)).all()


def add_seal(session: Session, seal: AuditSeal) -> None:
    session.add(seal)
    session.flush()


def last_seal(session: Session) -> AuditSeal | None:
    return session.scalars(
        select(AuditSeal).order_by(AuditSeal.seq.desc(), AuditSeal.id.desc()).limit(1)
    ).first()


def seals(session: Session, offset: int = 0, limit: int | None = None) -> Sequence[AuditSeal]:
    query = select(AuditSeal).order_by(AuditSeal.seq, AuditSeal.id).offset(offset).limit(limit)
    return session.scalars(query).all()


def count_seals(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditSeal)) or 0)
