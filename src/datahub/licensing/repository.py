"""SQL for grants and access requests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import or_, select, union
from sqlalchemy.orm import Session, aliased

from datahub.db.models import AccessRequest, Dataset, Grant, User


def active_grants(
    session: Session,
    dataset_ids: Iterable[str],
    *,
    user_id: int,
    organization_id: str | None,
    now: datetime,
) -> dict[str, tuple[int, ...]]:
    ids = list(dataset_ids)
    result: dict[str, list[int]] = defaultdict(list)
    if not ids:
        return {}
    grantee = Grant.user_id == user_id
    if organization_id is not None:
        grantee = or_(grantee, Grant.organization_id == organization_id)
    rows = session.execute(
        select(Grant.dataset_id, Grant.id).where(
            Grant.dataset_id.in_(ids),
            grantee,
            Grant.revoked_at.is_(None),
            or_(Grant.expires_at.is_(None), Grant.expires_at > now),
        )
    )
    for dataset_id, grant_id in rows:
        result[dataset_id].append(grant_id)
    return {k: tuple(sorted(v)) for k, v in result.items()}


def active_grantees(
    session: Session, dataset_ids: Iterable[str], *, now: datetime
) -> list[tuple[str, str, int | None]]:
    """(dataset, organisation, user or None) for every grant in force now: a user's grant
    names the user's organisation and the user, an organisation's grant the organisation."""
    ids = list(dataset_ids)
    if not ids:
        return []
    rows = session.execute(
        select(Grant.dataset_id, Grant.organization_id, User.organization_id, Grant.user_id)
        .outerjoin(User, User.id == Grant.user_id)
        .where(
            Grant.dataset_id.in_(ids),
            Grant.revoked_at.is_(None),
            or_(Grant.expires_at.is_(None), Grant.expires_at > now),
        )
    )
    found = {(d, org or user_org, None if org else user) for d, org, user_org, user in rows}
    return sorted((d, org, user) for d, org, user in found if org)


def list_grants(session: Session, dataset_id: str) -> Sequence[tuple[Grant, str | None]]:
    rows = session.execute(
        select(Grant, User.email)
        .outerjoin(User, User.id == Grant.user_id)
        .where(Grant.dataset_id == dataset_id)
        .order_by(Grant.id)
    )
    return [(g, email) for g, email in rows]


def get_grant(session: Session, grant_id: int) -> Grant | None:
    return session.get(Grant, grant_id)


def add(session: Session, obj: Grant | AccessRequest) -> None:
    session.add(obj)
    session.flush()


def get_request(session: Session, request_id: int) -> AccessRequest | None:
    return session.get(AccessRequest, request_id)


def list_requests(session: Session, dataset_id: str) -> Sequence[AccessRequest]:
    return session.scalars(
        select(AccessRequest)
        .where(AccessRequest.dataset_id == dataset_id)
        .order_by(AccessRequest.id)
    ).all()


def requests_of(
    session: Session, user_id: int
) -> Sequence[tuple[AccessRequest, Grant | None, str | None]]:
    grantee = aliased(User)
    rows = session.execute(
        select(AccessRequest, Grant, grantee.email)
        .outerjoin(Grant, Grant.id == AccessRequest.grant_id)
        .outerjoin(grantee, grantee.id == Grant.user_id)
        .where(AccessRequest.user_id == user_id)
        .order_by(AccessRequest.id.desc())
    )
    return [(request, grant, email) for request, grant, email in rows]


def datasets_with_access_records(session: Session) -> Sequence[str]:
    query = union(select(Grant.dataset_id), select(AccessRequest.dataset_id))
    return sorted(session.scalars(query))


def user_id_by_email(session: Session, email: str) -> int | None:
    return session.scalar(select(User.id).where(User.email == email))


def all_grants(session: Session) -> Sequence[Grant]:
    return session.scalars(select(Grant).order_by(Grant.id)).all()


def dataset_levels(session: Session) -> dict[str, str]:
    return {row.id: row.level for row in session.execute(select(Dataset.id, Dataset.level))}
