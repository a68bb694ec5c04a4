"""All SQL of the job table: claims, heartbeats, owned updates and recovery look-ups."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from datahub.db.models import Job


def oldest_unowned_queued(session: Session) -> Job | None:
    """The next job to claim, locked; ``SKIP LOCKED`` so concurrent workers never wait."""
    return session.scalars(
        select(Job)
        .where(Job.state == "queued", Job.worker.is_(None))
        .order_by(Job.created_at, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()


def refresh_heartbeats(
    session: Session, job_ids: Sequence[str], worker: str, states: Collection[str], now: datetime
) -> None:
    session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.worker == worker, Job.state.in_(states))
        .values(heartbeat_at=now)
    )


def owned_in_states(session: Session, states: Collection[str], *, lock: bool) -> Sequence[Job]:
    """Jobs in ``states`` that some process owns; with ``lock``, skipping rows locked elsewhere."""
    query = select(Job).where(Job.state.in_(states), Job.worker.is_not(None))
    if lock:
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).all()


def update_if_owned(
    session: Session, job_id: str, worker: str, states: Collection[str], values: dict[str, Any]
) -> bool:
    """Update the job when ``worker`` owns it and it is in one of ``states``; True if it did."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.state.in_(states))
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


def jobs_of_kind(session: Session, job_ids: Collection[str], kind: str) -> Sequence[Job]:
    return session.scalars(select(Job).where(Job.id.in_(job_ids), Job.kind == kind)).all()


def recent_jobs(
    session: Session, kind: str, limit: int, created_by: int | None = None
) -> Sequence[Job]:
    """The newest jobs of ``kind`` (of one creator, if named), newest first."""
    query = select(Job).where(Job.kind == kind)
    if created_by is not None:
        query = query.where(Job.created_by == created_by)
    return session.scalars(query.order_by(Job.created_at.desc(), Job.id).limit(limit)).all()
