"""Typed dependencies: the request's unit of work, the caller, and role requirements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from datahub.accounts import signin
from datahub.accounts.caller import Caller, RequestContext, Role, check_role
from datahub.api.context import request_id_var
from datahub.audit import service as audit
from datahub.licensing.registry import LicenceRegistry
from datahub.runtime import Runtime
from datahub.settings import Settings
from datahub.storage import Storage

SAFE_METHODS = frozenset({"GET", "HEAD"})
_bearer = HTTPBearer(auto_error=False, description="API token from `datahub users create`.")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def audited_transaction(
    runtime: Runtime, *, read_only: bool = False
) -> AbstractContextManager[Session]:
    """The instance's unit of work, recording refused attempts (see audit.audited_transaction).
    ``read_only``: see :meth:`Runtime.read_transaction`; a refusal is then recorded in a write
    transaction."""
    work = runtime.read_transaction if read_only else runtime.transaction
    return audit.audited_transaction(work, denials=runtime.transaction)


#: Methods whose unit of work is read-only (design habit 12: reads never take the write lock).
READ_METHODS = frozenset({"GET", "HEAD"})


def get_session(request: Request, runtime: RuntimeDep) -> Iterator[Session]:
    """The request owns the transaction: commit after the handler, roll back on error."""
    with audited_transaction(runtime, read_only=request.method in READ_METHODS) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_caller(
    request: Request,
    runtime: RuntimeDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """Authenticate in a short read transaction of its own (uploads must not hold one open).

    A bearer token as always; without one, a GET from a signed-in browser (a download link of a
    page) is that user's, exactly as the page was. Writes never ride on the cookie (no CSRF).
    """
    user = request.session.get(signin.SESSION_USER) if request.method in SAFE_METHODS else None
    with runtime.read_session() as session:  # reads only: never waits on SQLite's write lock
        return signin.resolve(
            session,
            authorization=request.headers.get("authorization"),
            session_user=user if isinstance(user, int) else None,
            uses=request.scope.get(signin.TOKEN_USES_SCOPE_KEY),
        )


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(*roles: Role) -> Callable[[Caller], Caller]:
    """A dependency that admits authenticated callers with one of ``roles``."""

    def check(caller: CallerDep) -> Caller:
        check_role(caller, roles)
        return caller

    return check


AdminDep = Annotated[Caller, Depends(require("admin"))]
AuthenticatedDep = Annotated[Caller, Depends(require("admin", "producer", "analyst", "auditor"))]


def purpose(request: Request) -> str | None:
    """The optional ``X-Purpose`` header, recorded in audit events."""
    value = request.headers.get("x-purpose")
    return value[:500] if value else None


PurposeDep = Annotated[str | None, Depends(purpose)]


def get_context(caller: CallerDep, purpose: PurposeDep) -> RequestContext:
    return RequestContext(caller=caller, request_id=request_id_var.get(), purpose=purpose)


ContextDep = Annotated[RequestContext, Depends(get_context)]


def get_licences(runtime: RuntimeDep) -> LicenceRegistry:
    return runtime.licences


LicencesDep = Annotated[LicenceRegistry, Depends(get_licences)]


def get_storage(runtime: RuntimeDep) -> Storage:
    return runtime.storage


StorageDep = Annotated[Storage, Depends(get_storage)]
