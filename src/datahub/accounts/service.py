"""Rules for organisations, users and authentication."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy.orm import Session

from datahub.accounts import repository, tokens
from datahub.accounts.caller import ANONYMOUS, Caller, Role
from datahub.accounts.schemas import OrganizationCreate, UserCreate
from datahub.db.models import ApiToken, Organization, User
from datahub.errors import Conflict, NotFound, Unauthenticated


def create_organization(session: Session, data: OrganizationCreate) -> Organization:
    if repository.get_organization(session, data.id) is not None:
        raise Conflict(f"organisation {data.id!r} already exists")
    org = Organization(id=data.id, name=data.name, member=data.member, siren=data.siren)
    session.add(org)
    session.flush()
    return org


def get_organization(session: Session, org_id: str) -> Organization:
    org = repository.get_organization(session, org_id)
    if org is None:
        raise NotFound(f"no organisation {org_id!r}")
    return org


def find_organization(session: Session, org_id: str) -> Organization | None:
    return repository.get_organization(session, org_id)


def list_organizations(session: Session) -> Sequence[Organization]:
    return repository.list_organizations(session)


def create_user(session: Session, data: UserCreate) -> tuple[User, str]:
    """Create a user and a first token; returns the clear token, which is never stored."""
    get_organization(session, data.organization_id)
    if repository.get_user_by_email(session, str(data.email)) is not None:
        raise Conflict(f"user {data.email} already exists")
    user = User(email=str(data.email), organization_id=data.organization_id, role=data.role)
    session.add(user)
    session.flush()
    return user, issue_token(session, user)


def issue_token(session: Session, user: User) -> str:
    token = tokens.new_token()
    session.add(ApiToken(user_id=user.id, token_hash=tokens.hash_token(token), prefix=token[:8]))
    session.flush()
    return token


def find_user(session: Session, user_id: int) -> User | None:
    return repository.get_user(session, user_id)


def find_user_by_email(session: Session, email: str) -> User | None:
    return repository.get_user_by_email(session, email)


def get_user(session: Session, user_id: int) -> User:
    user = repository.get_user(session, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def set_role(session: Session, user_id: int, role: Role) -> User:
    user = repository.get_user(session, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    user.role = role
    session.flush()
    return user


def emails_with_roles(
    session: Session, roles: Collection[Role], organization_id: str | None = None
) -> list[str]:
    """The addresses of the users holding one of ``roles`` (in one organisation, if named)."""
    return [u.email for u in repository.users_with_roles(session, roles, organization_id)]


def caller_for(session: Session, user_id: int) -> Caller | None:
    """The caller a user is now (role and charter membership as they stand); None if gone."""
    user = repository.get_user(session, user_id)
    org = repository.get_organization(session, user.organization_id) if user else None
    if user is None or org is None:
        return None
    return _caller(user, org)


def _caller(user: User, org: Organization) -> Caller:
    return Caller(
        user_id=user.id,
        email=user.email,
        organization_id=org.id,
        organization_member=org.member,
        role=user.role,  # type: ignore[arg-type]
    )


def authenticate(session: Session, bearer: str | None) -> Caller:
    """The caller behind a bearer token; anonymous without one; 401 for a bad one."""
    if bearer is None:
        return ANONYMOUS
    found = repository.find_token(session, tokens.hash_token(bearer))
    if found is None or not tokens.matches(bearer, found[0].token_hash):
        raise Unauthenticated("invalid or revoked token")
    _token, user, org = found
    return _caller(user, org)
