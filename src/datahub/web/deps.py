"""Who is asking, for a page: an API token (as on the API) or the signed session cookie."""

from __future__ import annotations

from contextlib import AbstractContextManager

from fastapi import Request
from sqlalchemy.orm import Session

from datahub.accounts import signin
from datahub.accounts.caller import ANONYMOUS, Caller, RequestContext
from datahub.audit import service as audit
from datahub.errors import DatahubError
from datahub.runtime import Runtime

#: Set by datahub.api.context.RequestIdMiddleware on every request.
REQUEST_ID_SCOPE_KEY = "datahub.request_id"


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def unit_of_work(runtime: Runtime) -> AbstractContextManager[Session]:
    """A page's unit of work, recording refused attempts, exactly as the API's."""
    return audit.audited_transaction(runtime.transaction)


def read_work(runtime: Runtime) -> AbstractContextManager[Session]:
    """A GET page's unit of work: read-only, as the API's GETs are (a refusal, and the audit
    events of reads, are still written, after it, in a short write transaction)."""
    return audit.audited_transaction(runtime.read_transaction, denials=runtime.transaction)


def page_caller(request: Request) -> Caller:
    """The caller of a page; a bad token is a 401, a stale session is signed out."""
    runtime = runtime_of(request)
    user_id = request.session.get(signin.SESSION_USER)
    with runtime.read_session() as session:
        caller = signin.resolve(
            session,
            authorization=request.headers.get("authorization"),
            session_user=user_id if isinstance(user_id, int) else None,
            uses=request.scope.get(signin.TOKEN_USES_SCOPE_KEY),
        )
    if user_id is not None and not caller.authenticated:
        request.session.pop(signin.SESSION_USER, None)
    return caller


def page_caller_or_anonymous(request: Request) -> Caller:
    """For error pages: never fails again on the reason the page failed."""
    try:
        return page_caller(request)
    except DatahubError:
        return ANONYMOUS


def context(request: Request, caller: Caller, purpose: str | None = None) -> RequestContext:
    return RequestContext(
        caller=caller, request_id=request.scope.get(REQUEST_ID_SCOPE_KEY), purpose=purpose
    )
