"""Pydantic shapes of organisations and users at the edge."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from datahub.accounts.caller import Role

SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SLUG, description="Stable identifier (lowercase slug).")
    name: str = Field(min_length=1, max_length=300)
    member: bool = Field(False, description="Signatory of the territory's data-sharing charter.")
    siren: str | None = Field(None, pattern=r"^\d{9}$")


class OrganizationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    member: bool
    siren: str | None
    created_at: datetime


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    organization_id: str
    role: Role


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    organization_id: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None = None


class UserWithToken(BaseModel):
    user: UserRead
    token: str = Field(description="Shown once; only its hash is stored.")
    label: str = Field("", description="The token's label, if one was given.")


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field("", max_length=100, description="A name for the token, e.g. its use.")


class TokenRead(BaseModel):
    """A token as its owner sees it later: never the token itself, only its first characters."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute; None if never used.")
    revoked_at: datetime | None
