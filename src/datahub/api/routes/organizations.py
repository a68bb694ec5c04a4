"""Organisations: the producers and members of the data charter."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from datahub.accounts import service
from datahub.accounts.schemas import OrganizationCreate, OrganizationRead
from datahub.api.deps import AdminDep, ContextDep, SessionDep
from datahub.api.pagination import Page, PageDep, envelope

router = APIRouter(prefix="/organizations", tags=["organizations"])


@router.get("", summary="List organisations", response_model=Page[OrganizationRead])
def list_organizations(request: Request, session: SessionDep, page: PageDep) -> dict[str, Any]:
    orgs = [OrganizationRead.model_validate(o) for o in service.list_organizations(session)]
    start = (page.page - 1) * page.page_size
    return envelope(request, orgs[start : start + page.page_size], len(orgs), page)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an organisation (admin)")
def create_organization(
    data: OrganizationCreate, session: SessionDep, ctx: ContextDep, _admin: AdminDep
) -> OrganizationRead:
    return OrganizationRead.model_validate(service.register_organization(session, data, ctx))


class MembershipChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: bool = Field(description="Signatory of the territory's data-sharing charter.")


@router.patch(
    "/{org_id}",
    summary="Record charter membership (admin; audited): members read shared data",
)
def change_membership(
    org_id: str, change: MembershipChange, session: SessionDep, ctx: ContextDep, _admin: AdminDep
) -> OrganizationRead:
    return OrganizationRead.model_validate(
        service.set_membership(session, org_id, change.member, ctx)
    )


@router.get("/{org_id}", summary="One organisation")
def get_organization(org_id: str, session: SessionDep) -> OrganizationRead:
    return OrganizationRead.model_validate(service.get_organization(session, org_id))
