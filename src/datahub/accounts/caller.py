"""Who is calling: the identity every access rule and audit event is about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["admin", "producer", "analyst", "auditor"]
ROLES: tuple[Role, ...] = ("admin", "producer", "analyst", "auditor")


@dataclass(frozen=True)
class Caller:
    """An authenticated user, or the anonymous caller (``user_id`` None)."""

    user_id: int | None = None
    email: str | None = None
    organization_id: str | None = None
    organization_member: bool = False
    role: Role | None = None

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS = Caller()


@dataclass(frozen=True)
class RequestContext:
    """The caller plus what the audit log needs to know about the request."""

    caller: Caller
    request_id: str | None = None
    purpose: str | None = None
