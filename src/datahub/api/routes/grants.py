"""Grants and access requests: the producer decides who else reads its data (see catalog.access)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from datahub.api.deps import AuthenticatedDep, ContextDep, LicencesDep, SessionDep
from datahub.catalog import access
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
    found = access.list_grants(session, licences, ctx, dataset_id)
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
    return access.grant(session, licences, ctx, dataset_id, data)


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
    return access.revoke(session, licences, ctx, dataset_id, grant_id)


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
    filed = access.request_access(session, licences, ctx, dataset_id, data.purpose)
    return AccessRequestRead.model_validate(filed)


@router.get(
    "/datasets/{dataset_id}/access-requests",
    summary="Access requests on a dataset (producer, admin)",
)
def list_access_requests(
    dataset_id: str, session: SessionDep, licences: LicencesDep, ctx: ContextDep
) -> dict[str, Any]:
    found = [
        AccessRequestRead.model_validate(r)
        for r in access.list_requests(session, licences, ctx, dataset_id)
    ]
    return {"data": found, "meta": {"total": len(found)}}


@router.post("/access-requests/{request_id}/approve", summary="Approve: creates a grant")
def approve_request(
    request_id: int,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
    decision: AccessRequestDecision | None = None,
) -> AccessRequestRead:
    decided = access.approve_request(
        session, licences, ctx, request_id, decision or AccessRequestDecision()
    )
    return AccessRequestRead.model_validate(decided)


@router.post("/access-requests/{request_id}/deny", summary="Deny an access request")
def deny_request(
    request_id: int,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
    decision: AccessRequestDecision | None = None,
) -> AccessRequestRead:
    decided = access.deny_request(
        session, licences, ctx, request_id, decision or AccessRequestDecision()
    )
    return AccessRequestRead.model_validate(decided)
