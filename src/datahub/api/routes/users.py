"""Users and tokens. Creating users and tokens and changing roles is for admins; a user lists
and revokes their own tokens. Token creation, revocation and role changes are audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from datahub.accounts import service as accounts
from datahub.accounts.caller import Role
from datahub.accounts.schemas import TokenCreate, TokenRead, UserCreate, UserRead, UserWithToken
from datahub.api.deps import AdminDep, AuthenticatedDep, ContextDep, SessionDep
from datahub.api.pagination import Page, PageDep, envelope

router = APIRouter(prefix="/users", tags=["users"])


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: bool | None = Field(
        None, description="Disable the account (its tokens and sessions stop working) or enable it."
    )


@router.get("", summary="List users (admin)", response_model=Page[UserRead])
def list_users(
    request: Request, session: SessionDep, _admin: AdminDep, page: PageDep
) -> dict[str, Any]:
    users = [UserRead.model_validate(u) for u in accounts.list_users(session)]
    start = (page.page - 1) * page.page_size
    return envelope(request, users[start : start + page.page_size], len(users), page)


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


@router.patch("/{user_id}", summary="Change a user's role, or disable / enable it (admin; audited)")
def change_user(
    user_id: int, change: UserChange, session: SessionDep, ctx: ContextDep, _admin: AdminDep
) -> UserRead:
    user = accounts.get_user(session, user_id)
    if change.role is not None:
        user = accounts.change_role(session, user_id, change.role, ctx)
    if change.disabled is not None:
        user = accounts.set_disabled(session, user_id, change.disabled, ctx)
    return UserRead.model_validate(user)
