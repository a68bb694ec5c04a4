"""Grants and access requests: the producer decides who else reads its data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from datahub.api.deps import AuthenticatedDep, ContextDep, LicencesDep, SessionDep
from datahub.audit import service as audit
from datahub.catalog import service as catalog
from datahub.licensing import service as grants
from datahub.licensing.schemas import (
    AccessRequestCreate,
    AccessRequestDecision,
    AccessRequestRead,
    GrantCreate,
    GrantRead,
)

router = APIRouter(tags=["grants and access requests"])


@router.get("/datasets/{dataset_id}/grants", summary="Grants on a dataset (producer, admin)")
def list_grants(
    dataset_id: str, session: SessionDep, licences: LicencesDep, ctx: ContextDep
) -> dict[str, Any]:
    catalog.authorize_management(session, licences, ctx, dataset_id, "grant.list")
    found = grants.list_grants(session, dataset_id)
    return {"data": found, "meta": {"total": len(found)}}


@router.post(
    "/datasets/{dataset_id}/grants",
    status_code=status.HTTP_201_CREATED,
    summary="Grant an organisation or a user access to the data (producer, admin)",
)
def create_grant(
    dataset_id: str,
    data: GrantCreate,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
) -> GrantRead:
    resolved = catalog.authorize_management(session, licences, ctx, dataset_id, "grant.create")
    grant = grants.create_grant(session, dataset_id, data, created_by=ctx.caller.user_id)
    audit.record(
        session,
        audit.event_for(
            ctx,
            "grant.create",
            dataset_id=dataset_id,
            licence=resolved.dataset.licence_id,
            basis=f"grant:{grant.id}",
            detail={
                "grant": grant.id,
                "organization": grant.organization,
                "user": grant.user,
                "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
            },
        ),
    )
    return grant


@router.delete(
    "/datasets/{dataset_id}/grants/{grant_id}", summary="Revoke a grant (producer, admin)"
)
def revoke_grant(
    dataset_id: str,
    grant_id: int,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
) -> GrantRead:
    resolved = catalog.authorize_management(session, licences, ctx, dataset_id, "grant.revoke")
    grant = grants.revoke_grant(session, dataset_id, grant_id)
    audit.record(
        session,
        audit.event_for(
            ctx,
            "grant.revoke",
            dataset_id=dataset_id,
            licence=resolved.dataset.licence_id,
            basis=f"grant:{grant.id}",
            detail={"grant": grant.id},
        ),
    )
    return grant


@router.post(
    "/datasets/{dataset_id}/access-requests",
    status_code=status.HTTP_201_CREATED,
    summary="Ask the producer for access, stating a purpose (any authenticated user)",
)
def request_access(
    dataset_id: str,
    data: AccessRequestCreate,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
    _caller: AuthenticatedDep,
) -> AccessRequestRead:
    resolved = catalog.resolve(session, licences, ctx.caller, dataset_id)
    request = grants.file_request(session, dataset_id, ctx.caller, data.purpose)
    audit.record(
        session,
        audit.event_for(
            ctx,
            "access_request.create",
            dataset_id=dataset_id,
            licence=resolved.dataset.licence_id,
            detail={"request": request.id, "purpose": data.purpose},
        ),
    )
    return AccessRequestRead.model_validate(request)


@router.get(
    "/datasets/{dataset_id}/access-requests",
    summary="Access requests on a dataset (producer, admin)",
)
def list_access_requests(
    dataset_id: str, session: SessionDep, licences: LicencesDep, ctx: ContextDep
) -> dict[str, Any]:
    catalog.authorize_management(session, licences, ctx, dataset_id, "access_request.list")
    found = [AccessRequestRead.model_validate(r) for r in grants.list_requests(session, dataset_id)]
    return {"data": found, "meta": {"total": len(found)}}


def _decide(
    request_id: int,
    approve: bool,
    decision: AccessRequestDecision,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
) -> AccessRequestRead:
    request = grants.get_request(session, request_id)
    action = "access_request.approve" if approve else "access_request.deny"
    resolved = catalog.authorize_management(session, licences, ctx, request.dataset_id, action)
    decided = grants.decide_request(
        session, request, approve=approve, decision=decision, decided_by=ctx.caller.user_id
    )
    audit.record(
        session,
        audit.event_for(
            ctx,
            action,
            dataset_id=request.dataset_id,
            licence=resolved.dataset.licence_id,
            basis=f"grant:{decided.grant_id}" if decided.grant_id else None,
            detail={"request": request.id, "reason": decision.reason},
        ),
    )
    return AccessRequestRead.model_validate(decided)


@router.post("/access-requests/{request_id}/approve", summary="Approve: creates a grant")
def approve_request(
    request_id: int,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
    decision: AccessRequestDecision | None = None,
) -> AccessRequestRead:
    return _decide(request_id, True, decision or AccessRequestDecision(), session, licences, ctx)


@router.post("/access-requests/{request_id}/deny", summary="Deny an access request")
def deny_request(
    request_id: int,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
    decision: AccessRequestDecision | None = None,
) -> AccessRequestRead:
    return _decide(request_id, False, decision or AccessRequestDecision(), session, licences, ctx)
