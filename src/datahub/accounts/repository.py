"""SQL for organisations, users and tokens."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from datahub.db.models import ApiToken, Invitation, Organization, User


def get_organization(session: Session, org_id: str) -> Organization | None:
    return session.get(Organization, org_id)


def list_organizations(session: Session) -> Sequence[Organization]:
    return session.scalars(select(Organization).order_by(Organization.id)).all()


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).first()


def users_with_roles(
    session: Session, roles: Collection[str], organization_id: str | None = None
) -> Sequence[User]:
    query = select(User).where(User.role.in_(roles)).order_by(User.id)
    if organization_id is not None:
        query = query.where(User.organization_id == organization_id)
    return session.scalars(query).all()


def emails_of(session: Session, user_ids: Collection[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
    return {row[0]: row[1] for row in rows}


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.organization_id, User.email)).all()


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def find_token(session: Session, token_hash: str) -> tuple[ApiToken, User, Organization] | None:
    row = session.execute(
        select(ApiToken, User, Organization)
        .join(User, User.id == ApiToken.user_id)
        .join(Organization, Organization.id == User.organization_id)
        .where(
            ApiToken.token_hash == token_hash,
            ApiToken.revoked_at.is_(None),
            User.disabled_at.is_(None),
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def tokens_of(session: Session, user_id: int) -> Sequence[ApiToken]:
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    ).all()


def get_token(session: Session, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def touch_token(session: Session, token_id: int, at: datetime, stale_before: datetime) -> None:
    """Set the token's last use to ``at`` unless a request since ``stale_before`` already did
    (the condition makes concurrent requests, and a lagging read replica, harmless)."""
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < stale_before),
        )
        .values(last_used_at=at)
    )


def add_invitation(session: Session, invitation: Invitation) -> None:
    session.add(invitation)
    session.flush()


def find_invitation(session: Session, token_hash: str) -> Invitation | None:
    return session.scalars(select(Invitation).where(Invitation.token_hash == token_hash)).first()
