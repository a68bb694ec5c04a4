"""Pydantic shapes of grants and access requests."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class GrantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization: str | None = Field(None, description="Grantee organisation id.")
    user: str | None = Field(None, description="Grantee user e-mail.")
    expires_at: datetime | None = Field(None, description="Optional expiry (ISO 8601, with zone).")
    purpose: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _one_grantee(self) -> GrantCreate:
        if (self.organization is None) == (self.user is None):
            raise ValueError("give exactly one of organization or user")
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise ValueError("expires_at needs a time zone (e.g. 2027-01-01T00:00:00Z)")
        return self


class GrantRead(BaseModel):
    id: int
    dataset: str
    organization: str | None
    user: str | None
    purpose: str
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime
    active: bool


class AccessRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=3, max_length=2000)


class AccessRequestDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Aware only, as for grants: a naive time is refused (422), not guessed to be UTC.
    expires_at: AwareDatetime | None = None
    grant_to: Literal["user", "organization"] = "user"
    reason: str = Field("", max_length=2000)


class AccessRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    dataset_id: str
    user_id: int
    organization_id: str
    purpose: str
    status: str
    grant_id: int | None
    decided_at: datetime | None
    reason: str = Field("", description="The decider's words to the requester, if any.")
    created_at: datetime
