"""Users and tokens. Creating users and tokens and changing roles is for admins; a user lists
and revokes their own tokens. Token creation, revocation and role changes are audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict

from datahub.accounts import service as accounts
from datahub.accounts.caller import Role
from datahub.accounts.schemas import TokenCreate, TokenRead, UserCreate, UserRead, UserWithToken
from datahub.api.deps import AdminDep, AuthenticatedDep, ContextDep, SessionDep

router = APIRouter(prefix="/users", tags=["users"])


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a user and a token (admin)")
def create_user(
    data: UserCreate, session: SessionDep, ctx: ContextDep, _admin: AdminDep
) -> UserWithToken:
    user, token = accounts.register_user(session, data, ctx)
    return UserWithToken(user=UserRead.model_validate(user), token=token)


@router.post(
    "/{user_id}/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Issue a new token for a user (admin)",
)
def issue_token(
    user_id: int,
    session: SessionDep,
    ctx: ContextDep,
    _admin: AdminDep,
    data: TokenCreate | None = None,
) -> UserWithToken:
    user = accounts.get_user(session, user_id)
    label = (data or TokenCreate()).label
    token = accounts.issue_token(session, user, ctx, label=label)
    return UserWithToken(user=UserRead.model_validate(user), token=token, label=label.strip())


@router.get("/{user_id}/tokens", summary="A user's tokens, without their secret (owner, admin)")
def list_tokens(
    user_id: int, session: SessionDep, ctx: ContextDep, _caller: AuthenticatedDep
) -> dict[str, Any]:
    found = [TokenRead.model_validate(t) for t in accounts.list_tokens(session, user_id, ctx)]
    return {"data": found, "meta": {"total": len(found)}}


@router.delete("/{user_id}/tokens/{token_id}", summary="Revoke a token (owner, admin)")
def revoke_token(
    user_id: int, token_id: int, session: SessionDep, ctx: ContextDep, _caller: AuthenticatedDep
) -> TokenRead:
    return TokenRead.model_validate(accounts.revoke_token(session, user_id, token_id, ctx))


@router.patch("/{user_id}", summary="Change a user's role (admin)")
def change_role(
    user_id: int, change: RoleChange, session: SessionDep, ctx: ContextDep, _admin: AdminDep
) -> UserRead:
    return UserRead.model_validate(accounts.change_role(session, user_id, change.role, ctx))
