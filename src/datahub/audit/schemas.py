"""What an audit event says (contract §6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["allowed", "denied", "failed"]

ACTIONS = (
    "dataset.read_rows",
    "dataset.read_file",
    "dataset.trajectory_use",
    "dataset.create",
    "dataset.delete",
    "dataset.update",
    "dataset.licence_change",
    "dataset.upload",
    "grant.create",
    "grant.revoke",
    "access_request.create",
    "access_request.approve",
    "access_request.deny",
    "token.create",
    "user.role_change",
    "user.disable",
    "user.enable",
    "invitation.create",
    "organization.create",
    "organization.membership",
    "dataset.subscribe",
    "webhook.create",
    "webhook.delete",
    "plan.update",
    "actor_target.update",
    "reference.update",
)


class EventIn(BaseModel):
    """What a caller records; the chain fields are added by the audit service."""

    action: str
    outcome: Outcome = "allowed"
    user_id: int | None = None
    user_email: str | None = None
    organization_id: str | None = None
    dataset_id: str | None = None
    version: int | None = None
    licence: str | None = None
    basis: str | None = None
    row_count: int | None = None
    request_id: str | None = None
    purpose: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class EventRead(EventIn):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    prev_hash: str
    hash: str


class VerifyRead(BaseModel):
    valid: bool
    events: int
    first_broken: int | None
    reason: str | None


class SealRead(BaseModel):
    """A signature over the chain head; ``signed_message`` is exactly the bytes signed."""

    format: str
    seq: int = Field(description="The last event the seal covers.")
    hash: str = Field(description="That event's hash.")
    sealed_at: datetime
    key_fingerprint: str = Field(description="sha256: and the hex SHA-256 of the raw public key.")
    signature: str = Field(description="Base64 Ed25519 signature of signed_message.")
    signed_message: str


class PublicKeyRead(BaseModel):
    algorithm: str
    fingerprint: str = Field(description="sha256: and the hex SHA-256 of the raw public key.")
    public_key_pem: str = Field(description="SubjectPublicKeyInfo PEM (OpenSSL: -pubin).")
    public_key_raw: str = Field(description="The 32 raw public-key bytes, base64.")
