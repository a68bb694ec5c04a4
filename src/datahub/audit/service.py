"""Recording and verifying audit events, in the caller's transaction.

The event is written in the same transaction as what it records: if the append fails the action
fails too, so no data is ever served without its event.

Appends are serialised, and on PostgreSQL the lock that does it is held until COMMIT. So events
are chained and inserted just before the commit (``before_commit``), not where they are recorded:
the lock then covers the append alone, not the rest of the request (building the page, rendering
a chart). Recorded where the action happens, it made every audited request wait for the slowest
one in flight — a load test on two workers found most database connections queued on that lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from datahub import observability
from datahub.audit import chain, repository, sealing
from datahub.audit.schemas import EventIn
from datahub.audit.sealing import Transaction
from datahub.audit.seals import SealKeeper

__all__ = [
    "EventIn",
    "count",
    "event_for",
    "page",
    "pending_events",
    "record",
    "stream",
    "usage",
    "verify",
]
from datahub.db.models import AuditEvent
from datahub.db.paging import count as count_query
from datahub.errors import DatahubError

__all__ = [
    "EventIn",
    "audited_transaction",
    "count",
    "event_for",
    "page",
    "record",
    "stream",
    "usage",
    "verify",
]

CHAINED_FIELDS = (
    "seq",
    "occurred_at",
    "action",
    "outcome",
    "user_id",
    "user_email",
    "organization_id",
    "dataset_id",
    "version",
    "licence",
    "basis",
    "row_count",
    "request_id",
    "purpose",
    "detail",
    "prev_hash",
)


def fields_of(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in (*CHAINED_FIELDS, "hash")}


_PENDING = "datahub.audit.pending"
_APPENDED = "datahub.audit.appended"
_OPEN_READS = "datahub.audit.open_reads"


def record(session: Session, event: EventIn) -> None:
    """Add one event to the chain when ``session``'s transaction commits (nothing on rollback)."""
    session.info.setdefault(_PENDING, []).append(event)


def pending_events(session: Session) -> list[EventIn]:
    """The events ``session`` will append at commit, in order (a copy)."""
    return list(session.info.get(_PENDING, []))


#: The fields of an event that say who asked, as opposed to what was used.
CALLER_FIELDS = frozenset({"user_id", "user_email", "organization_id", "request_id", "purpose"})


@dataclass(frozen=True)
class Pending:
    """What a transaction will append at commit: events, and open reads ``(dataset, day)`` →
    ``(reads, rows)``. A read-only transaction hands them to a write transaction."""

    events: list[EventIn]
    open_reads: dict[tuple[str, date], tuple[int, int]]


def detach_pending(session: Session) -> Pending | None:
    """Take the appends ``session`` would make at commit (None when there are none)."""
    events: list[EventIn] = session.info.pop(_PENDING, [])
    open_reads: dict[tuple[str, date], tuple[int, int]] = session.info.pop(_OPEN_READS, {})
    return Pending(events, open_reads) if events or open_reads else None


def attach_pending(session: Session, pending: Pending) -> None:
    """Make ``session`` append ``pending`` at its commit."""
    session.info.setdefault(_PENDING, []).extend(pending.events)
    counts = session.info.setdefault(_OPEN_READS, {})
    for key, (reads, rows) in pending.open_reads.items():
        before = counts.get(key, (0, 0))
        counts[key] = (before[0] + reads, before[1] + rows)


@orm_event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    """Count open reads, then chain and insert the transaction's events under the append lock,
    held to the commit."""
    open_reads: dict[tuple[str, date], tuple[int, int]] = session.info.pop(_OPEN_READS, {})
    for (dataset_id, day), (reads, rows) in sorted(open_reads.items()):
        repository.count_open_read(session, dataset_id, day, rows, reads=reads)
    pending: list[EventIn] = session.info.pop(_PENDING, [])
    if not pending:
        return
    last_seq, last_hash = repository.lock_and_last(session)
    for event in pending:
        values: dict[str, Any] = {
            **event.model_dump(),
            "seq": last_seq + 1,
            # Microsecond precision survives both backends, so the hash can be recomputed.
            "occurred_at": datetime.now(UTC),
            "prev_hash": last_hash or chain.GENESIS,
        }
        last_seq, last_hash = values["seq"], chain.digest(values)
        repository.add(session, AuditEvent(**values, hash=last_hash))
    session.info.setdefault(_APPENDED, []).extend(pending)


@orm_event.listens_for(Session, "after_commit")
def _count_appended(session: Session) -> None:
    """``datahub_audit_events_total`` moves once the events are committed, not before."""
    for event in session.info.pop(_APPENDED, []):
        observability.record_audit_event(event.action, event.outcome)


@orm_event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_APPENDED, None)
    session.info.pop(_OPEN_READS, None)


@contextmanager
def audited_transaction(
    transaction: Transaction, *, denials: Transaction | None = None
) -> Iterator[Session]:
    """A unit of work from ``transaction`` (commit on success, roll back on error) in which a
    refused attempt still leaves its trace.

    A :class:`~datahub.errors.DatahubError` carrying an ``audit_event`` (a denial) rolls the work
    back; its event is then recorded in a transaction of its own (from ``denials``, when the
    work's own transactions are read-only), and the error raised again.
    """
    try:
        with transaction() as session:
            yield session
    except DatahubError as exc:
        if exc.audit_event is not None:
            with (denials or transaction)() as session:
                record(session, exc.audit_event)
        raise


class _Who(Protocol):
    @property
    def user_id(self) -> int | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def organization_id(self) -> str | None: ...


class Actor(Protocol):
    """Who acts and why: satisfied by :class:`datahub.accounts.caller.RequestContext` (audit sits
    below accounts, so it names the shape, not the class)."""

    @property
    def caller(self) -> _Who: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def purpose(self) -> str | None: ...


def event_for(ctx: Actor, action: str, **fields: Any) -> EventIn:
    """An event about the request's caller doing ``action``."""
    return EventIn(
        action=action,
        user_id=ctx.caller.user_id,
        user_email=ctx.caller.email,
        organization_id=ctx.caller.organization_id,
        request_id=ctx.request_id,
        purpose=ctx.purpose,
        **fields,
    )


def verify(session: Session, keeper: SealKeeper) -> chain.Verdict:
    """The chain, checked against itself and against the seals (database and storage copies)."""
    events = (fields_of(event) for event in repository.all_in_order(session))
    return sealing.verify(events, sealing.list_seals(session), keeper)


def count_open_read(session: Session, dataset_id: str, rows: int) -> None:
    """Count one read of open data, at commit (like events, so a read-only unit of work can
    hand it on)."""
    counts = session.info.setdefault(_OPEN_READS, {})
    key = (dataset_id, datetime.now(UTC).date())
    reads, served = counts.get(key, (0, 0))
    counts[key] = (reads + 1, served + rows)


READ_ACTIONS = ("dataset.read_rows", "dataset.read_file", "dataset.trajectory_use")


def events_query(
    *,
    dataset: str | None = None,
    organization: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    basis: str | None = None,
) -> Any:
    return repository.filtered(
        dataset=dataset,
        organization=organization,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
        basis=basis,
    )


def page(session: Session, query: Any, offset: int, limit: int) -> list[AuditEvent]:
    return list(repository.page(session, query, offset, limit))


def count(session: Session, query: Any) -> int:
    return count_query(session, query)


def stream(session: Session, query: Any) -> Iterator[AuditEvent]:
    return repository.stream(session, query)


#: The columns of an exported event: every chained field, then the event's hash.
EXPORT_COLUMNS = [*CHAINED_FIELDS, "hash"]


def export_value(value: Any) -> Any:
    """A value as a flat CSV cell: times in ISO 8601, details as sorted JSON."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def export_rows(session: Session, query: Any) -> Iterator[dict[str, Any]]:
    """The events of ``query`` as flat rows of :data:`EXPORT_COLUMNS` (for CSV archiving: the
    chain can be recomputed from them)."""
    for event in repository.stream(session, query):
        yield {column: export_value(getattr(event, column)) for column in EXPORT_COLUMNS}


@dataclass
class DatasetUsage:
    """What the governance committee asks of one dataset over a period."""

    dataset: str
    licence: str | None
    reads: int = 0
    rows_served: int = 0
    denied: int = 0
    reads_by_organization: dict[str, int] = field(default_factory=dict)
    reads_by_basis: dict[str, int] = field(default_factory=dict)
    denied_by_organization: dict[str, int] = field(default_factory=dict)


def usage(session: Session, since: datetime | None, until: datetime | None) -> list[DatasetUsage]:
    """Reads (by organisation and basis), rows served and denied attempts, per dataset."""
    by_dataset: dict[tuple[str, str | None], DatasetUsage] = {}
    query = repository.filtered(
        dataset=None, organization=None, action=None, outcome=None, since=since, until=until
    )
    for event in repository.stream(session, query):
        if event.dataset_id is None:
            continue
        is_read = event.action in READ_ACTIONS
        if not is_read and event.outcome != "denied":
            continue
        key = (event.dataset_id, event.licence)
        item = by_dataset.setdefault(key, DatasetUsage(event.dataset_id, event.licence))
        org = event.organization_id or "anonymous"
        if event.outcome == "denied":
            item.denied += 1
            item.denied_by_organization[org] = item.denied_by_organization.get(org, 0) + 1
        elif is_read:
            item.reads += 1
            item.rows_served += event.row_count or 0
            item.reads_by_organization[org] = item.reads_by_organization.get(org, 0) + 1
            basis = event.basis or "unknown"
            item.reads_by_basis[basis] = item.reads_by_basis.get(basis, 0) + 1
    return sorted(by_dataset.values(), key=lambda u: (u.dataset, u.licence or ""))


def open_reads(
    session: Session, since: datetime | None, until: datetime | None
) -> dict[str, tuple[int, int]]:
    """Counted reads of open data per dataset: (reads, rows)."""
    totals: dict[str, tuple[int, int]] = {}
    for row in repository.open_read_counts(
        session, since.date() if since else None, until.date() if until else None
    ):
        reads, rows = totals.get(row.dataset_id, (0, 0))
        totals[row.dataset_id] = (reads + row.reads, rows + row.rows)
    return totals
