"""Web sign-in: invitations, argon2id passwords, and the caller behind a page request."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from datahub.accounts import repository, tokens
from datahub.accounts import service as accounts
from datahub.accounts.caller import ANONYMOUS, Caller, RequestContext
from datahub.audit import service as audit
from datahub.db.models import Invitation, User
from datahub.errors import FieldError, NotFound, Unauthenticated, ValidationFailed

#: argon2-cffi's defaults are argon2id with RFC 9106's low-memory parameters.
_HASHER: Final = PasswordHasher()
MIN_PASSWORD: Final = 12
#: Verified when the e-mail is unknown, so that timing does not tell which addresses exist.
_DUMMY_HASH: Final = _HASHER.hash("datahub-no-such-user")
WRONG: Final = "adresse électronique ou mot de passe incorrect"
#: The key of the signed-in user's id in the web session cookie (read by both HTTP edges).
SESSION_USER: Final = "user"
#: The ASGI scope key of the token uses a request collects (see datahub.api.token_use).
TOKEN_USES_SCOPE_KEY: Final = "datahub.token_uses"


def now() -> datetime:
    return datetime.now(UTC)


def invite_user(
    session: Session, email: str, actor: RequestContext, *, days: int, via: str | None = None
) -> str:
    """An admin invites ``email`` to set a password (audited as ``invitation.create``); returns
    the one-time token, shown once."""
    accounts.require_admin(actor)
    token = invite(session, email, days=days)
    detail = {"user": email, **({"via": via} if via is not None else {})}
    audit.record(session, audit.event_for(actor, "invitation.create", detail=detail))
    return token


def invite(session: Session, email: str, *, days: int) -> str:
    """A one-time token letting the user ``email`` set a password; only its hash is stored."""
    user = repository.get_user_by_email(session, email)
    if user is None:
        raise NotFound(f"no user {email}; create it first with `datahub users create`")
    token = tokens.new_token()
    repository.add_invitation(
        session,
        Invitation(
            user_id=user.id,
            token_hash=tokens.hash_token(token),
            expires_at=now() + timedelta(days=days),
        ),
    )
    return token


def _open_invitation(session: Session, token: str) -> Invitation:
    invitation = repository.find_invitation(session, tokens.hash_token(token))
    if invitation is None or invitation.used_at is not None or invitation.expires_at < now():
        raise NotFound("ce lien d'invitation n'est pas valide, a déjà servi ou a expiré")
    return invitation


def invited_user(session: Session, token: str) -> User:
    return accounts.get_user(session, _open_invitation(session, token).user_id)


def accept(session: Session, token: str, password: str) -> User:
    """Set the invited user's password and spend the invitation."""
    invitation = _open_invitation(session, token)
    if len(password) < MIN_PASSWORD:
        message = f"le mot de passe doit compter au moins {MIN_PASSWORD} caractères"
        raise ValidationFailed(message, errors=[FieldError(None, "password", message)])
    user = accounts.get_user(session, invitation.user_id)
    user.password_hash = _HASHER.hash(password)
    invitation.used_at = now()
    session.flush()
    return user


def check_password(session: Session, email: str, password: str) -> User:
    """The user whose e-mail and password these are; 401 otherwise (same message either way)."""
    user = repository.get_user_by_email(session, email.strip())
    stored = user.password_hash if user is not None else None
    try:
        _HASHER.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated(WRONG) from None
    if user is None or stored is None or user.disabled_at is not None:
        raise Unauthenticated(WRONG)
    if _HASHER.check_needs_rehash(stored):
        user.password_hash = _HASHER.hash(password)
    return user


def caller_of(session: Session, user_id: int) -> Caller:
    """The caller a signed-in session stands for (anonymous if the user is gone)."""
    user = repository.get_user(session, user_id)
    org = repository.get_organization(session, user.organization_id) if user else None
    if user is None or org is None or user.disabled_at is not None:
        return ANONYMOUS
    return Caller(
        user_id=user.id,
        email=user.email,
        organization_id=org.id,
        organization_member=org.member,
        role=user.role,  # type: ignore[arg-type]
    )


def resolve(
    session: Session,
    *,
    authorization: str | None,
    session_user: int | None,
    uses: MutableMapping[int, accounts.TokenUse] | None = None,
) -> Caller:
    """A page's caller: an API token, exactly as the API takes it, wins over the session.

    ``uses``: where to note the token's use when its stored last use is stale (the request's
    collection under :data:`TOKEN_USES_SCOPE_KEY`, written after the response).
    """
    if authorization is not None:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        caller, use = accounts.authenticate_use(session, credentials.strip())
        if use is not None and uses is not None:
            uses[use.token_id] = use
        return caller
    if session_user is None:
        return ANONYMOUS
    return caller_of(session, session_user)
