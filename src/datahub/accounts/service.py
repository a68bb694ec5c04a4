"""Rules for organisations, users, roles, tokens and authentication.

The operations an administrator performs — :func:`register_organization`,
:func:`set_membership`, :func:`register_user`, :func:`issue_token`, :func:`change_role`,
:func:`set_disabled` (and :func:`datahub.accounts.signin.invite_user`) — check that the actor is
an admin and audit themselves, so that every edge (API, CLI, web pages) calls them alike.
:func:`create_organization`, :func:`create_user` and :func:`set_role` are the bare store
operations underneath (no check, no audit), for set-up code and test fixtures.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from datahub.accounts import repository, tokens
from datahub.accounts.caller import ANONYMOUS, Caller, RequestContext, Role
from datahub.accounts.schemas import OrganizationCreate, UserCreate
from datahub.audit import service as audit
from datahub.db.models import ApiToken, Organization, User
from datahub.errors import Conflict, Forbidden, NotFound, Unauthenticated


def system_actor(via: str) -> RequestContext:
    """The instance's operator acting from a command (``via``: ``cli``, ``init``)."""
    return RequestContext(caller=Caller(role="admin"), request_id=f"{via}-{uuid.uuid4().hex[:12]}")


def require_admin(actor: RequestContext) -> None:
    if not actor.caller.is_admin:
        raise Forbidden("this operation needs the role admin")


def _detail(via: str | None, **fields: Any) -> dict[str, Any]:
    return {**fields, "via": via} if via is not None else fields


def create_organization(session: Session, data: OrganizationCreate) -> Organization:
    if repository.get_organization(session, data.id) is not None:
        raise Conflict(f"organisation {data.id!r} already exists")
    org = Organization(id=data.id, name=data.name, member=data.member, siren=data.siren)
    session.add(org)
    session.flush()
    return org


def register_organization(
    session: Session, data: OrganizationCreate, actor: RequestContext, *, via: str | None = None
) -> Organization:
    """An admin creates an organisation (audited as ``organization.create``)."""
    require_admin(actor)
    org = create_organization(session, data)
    audit.record(
        session,
        audit.event_for(
            actor,
            "organization.create",
            detail=_detail(via, organization=org.id, member=org.member),
        ),
    )
    return org


def set_membership(
    session: Session, org_id: str, member: bool, actor: RequestContext
) -> Organization:
    """An admin records that an organisation signed (or left) the data-sharing charter; its
    users' access to shared data follows at once (audited as ``organization.membership``)."""
    require_admin(actor)
    org = get_organization(session, org_id)
    before = org.member
    org.member = member
    session.flush()
    audit.record(
        session,
        audit.event_for(
            actor,
            "organization.membership",
            detail={"organization": org.id, "from": before, "to": member},
        ),
    )
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
    return user, _new_token(session, user)


#: A token's last use is kept to this step: a request writes it only when the stored one is
#: older, so a busy client costs one short write a minute, not one per request.
TOKEN_USE_STEP: Final = timedelta(minutes=1)


def _new_token(session: Session, user: User, label: str = "") -> str:
    token = tokens.new_token()
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=tokens.hash_token(token),
            prefix=token[:8],
            label=label.strip()[:100],
        )
    )
    session.flush()
    return token


def _token_detail(via: str | None, user: User, label: str) -> dict[str, Any]:
    return _detail(via, user=user.email, **({"label": label.strip()[:100]} if label else {}))


def list_users(session: Session) -> Sequence[User]:
    return repository.list_users(session)


def find_user(session: Session, user_id: int) -> User | None:
    return repository.get_user(session, user_id)


def emails_of(session: Session, user_ids: Collection[int]) -> dict[int, str]:
    """The addresses of these users, by id (a user since deleted is absent)."""
    return repository.emails_of(session, user_ids)


def find_user_by_email(session: Session, email: str) -> User | None:
    return repository.get_user_by_email(session, email)


def register_user(
    session: Session, data: UserCreate, actor: RequestContext, *, via: str | None = None
) -> tuple[User, str]:
    """An admin creates a user with a first token (audited as ``token.create``); returns the
    clear token, shown once."""
    require_admin(actor)
    user, token = create_user(session, data)
    audit.record(
        session,
        audit.event_for(
            actor, "token.create", detail=_detail(via, user=user.email, role=user.role)
        ),
    )
    return user, token


def issue_token(
    session: Session,
    user: User,
    actor: RequestContext,
    *,
    label: str = "",
    via: str | None = None,
) -> str:
    """An admin issues a new API token for ``user`` (audited); returns it in clear, once."""
    require_admin(actor)
    token = _new_token(session, user, label)
    audit.record(
        session, audit.event_for(actor, "token.create", detail=_token_detail(via, user, label))
    )
    return token


def issue_own_token(session: Session, actor: RequestContext, label: str) -> str:
    """A signed-in user issues a token for themself (audited as an admin's issue is).

    Offered by the web session only (``/me``), never to a bearer token: a leaked token must not
    be able to mint successors that outlive its revocation.
    """
    user = _own_account(session, actor)
    token = _new_token(session, user, label)
    audit.record(
        session, audit.event_for(actor, "token.create", detail=_token_detail(None, user, label))
    )
    return token


def _own_account(session: Session, actor: RequestContext) -> User:
    if actor.caller.user_id is None:
        raise Unauthenticated("this operation needs an API token")
    return get_user(session, actor.caller.user_id)


def _owner_or_admin(session: Session, user_id: int, actor: RequestContext) -> User:
    """The user whose tokens these are, checked before it is looked up (no probing for ids)."""
    if not actor.caller.authenticated:
        raise Unauthenticated("this operation needs an API token")
    if not (actor.caller.is_admin or actor.caller.user_id == user_id):
        raise Forbidden("only the token's owner or an admin may do this")
    return get_user(session, user_id)


def list_tokens(session: Session, user_id: int, actor: RequestContext) -> Sequence[ApiToken]:
    """A user's tokens, newest first (never their secret: only a prefix is kept in clear)."""
    return repository.tokens_of(session, _owner_or_admin(session, user_id, actor).id)


def revoke_token(session: Session, user_id: int, token_id: int, actor: RequestContext) -> ApiToken:
    """The owner or an admin revokes a token (audited once, when it stops working)."""
    user = _owner_or_admin(session, user_id, actor)
    token = repository.get_token(session, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"no token {token_id} for this user")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        session.flush()
        audit.record(
            session,
            audit.event_for(
                actor,
                "token.revoke",
                detail={"user": user.email, "token": token.id, "prefix": token.prefix},
            ),
        )
    return token


def get_user(session: Session, user_id: int) -> User:
    user = repository.get_user(session, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def get_user_by_email(session: Session, email: str) -> User:
    user = repository.get_user_by_email(session, email)
    if user is None:
        raise NotFound(f"no user {email}; create one with `datahub users create`")
    return user


def set_role(session: Session, user_id: int, role: Role) -> User:
    user = get_user(session, user_id)
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
    if user is None or org is None or user.disabled_at is not None:
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


def change_role(session: Session, user_id: int, role: Role, actor: RequestContext) -> User:
    """An admin changes a user's role (audited as ``user.role_change``, from and to)."""
    require_admin(actor)
    before = get_user(session, user_id).role
    user = set_role(session, user_id, role)
    audit.record(
        session,
        audit.event_for(
            actor, "user.role_change", detail={"user": user.email, "from": before, "to": role}
        ),
    )
    return user


@dataclass(frozen=True)
class TokenUse:
    """A request a token authenticated while its stored last use was older than the step."""

    token_id: int
    at: datetime


def set_disabled(session: Session, user_id: int, disabled: bool, actor: RequestContext) -> User:
    """An admin disables (or enables again) an account: while disabled, none of its tokens,
    sessions or its password signs it in (audited as ``user.disable`` / ``user.enable``).
    Nobody disables their own account, so an instance always keeps the admin who acts."""
    require_admin(actor)
    user = get_user(session, user_id)
    if disabled and user.id == actor.caller.user_id:
        raise Conflict("an admin cannot disable their own account")
    if disabled and user.disabled_at is None:
        user.disabled_at = datetime.now(UTC)
    elif not disabled:
        user.disabled_at = None
    session.flush()
    action = "user.disable" if disabled else "user.enable"
    audit.record(session, audit.event_for(actor, action, detail={"user": user.email}))
    return user


def authenticate(session: Session, bearer: str | None) -> Caller:
    """The caller behind a bearer token; anonymous without one; 401 for a bad one."""
    return authenticate_use(session, bearer)[0]


def authenticate_use(session: Session, bearer: str | None) -> tuple[Caller, TokenUse | None]:
    """:func:`authenticate`, and the use to record (see :func:`record_token_use`) when the
    token's stored last use is older than :data:`TOKEN_USE_STEP`. Reads only."""
    if bearer is None:
        return ANONYMOUS, None
    found = repository.find_token(session, tokens.hash_token(bearer))
    if found is None or not tokens.matches(bearer, found[0].token_hash):
        raise Unauthenticated("invalid or revoked token")
    token, user, org = found
    moment = datetime.now(UTC)
    stale = token.last_used_at is None or token.last_used_at <= moment - TOKEN_USE_STEP
    return _caller(user, org), TokenUse(token.id, moment) if stale else None


def record_token_use(session: Session, use: TokenUse) -> None:
    """Write a token's last use (in a short write transaction of its own)."""
    repository.touch_token(session, use.token_id, use.at, use.at - TOKEN_USE_STEP)
