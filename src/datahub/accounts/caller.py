"""Who is calling: the identity every access rule and audit event is about."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from datahub.errors import Forbidden, Unauthenticated

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


def check_role(caller: Caller, roles: Collection[Role]) -> None:
    """Admit an authenticated caller holding one of ``roles``: 401 without one, 403 otherwise
    (the rule of every role-gated route, API or page)."""
    if not caller.authenticated:
        raise Unauthenticated("this operation needs an API token")
    if caller.role not in roles:
        raise Forbidden(f"this operation needs the role {' or '.join(roles)}")


@dataclass(frozen=True)
class RequestContext:
    """The caller plus what the audit log needs to know about the request."""

    caller: Caller
    request_id: str | None = None
    purpose: str | None = None
