"""Users and tokens (admin). Token creation and role changes are audited."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict

from datahub.accounts import service as accounts
from datahub.accounts.caller import Role
from datahub.accounts.schemas import UserCreate, UserRead, UserWithToken
from datahub.api.deps import AdminDep, ContextDep, SessionDep

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
    user_id: int, session: SessionDep, ctx: ContextDep, _admin: AdminDep
) -> UserWithToken:
    user = accounts.get_user(session, user_id)
    token = accounts.issue_token(session, user, ctx)
    return UserWithToken(user=UserRead.model_validate(user), token=token)


@router.patch("/{user_id}", summary="Change a user's role (admin)")
def change_role(
    user_id: int, change: RoleChange, session: SessionDep, ctx: ContextDep, _admin: AdminDep
) -> UserRead:
    return UserRead.model_validate(accounts.change_role(session, user_id, change.role, ctx))
