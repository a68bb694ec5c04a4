"""The instance's reference data per kind (contract §5b): read by anyone, set by an admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel

from datahub.api.deps import AdminDep, ContextDep, SessionDep
from datahub.carbon import reference_data

router = APIRouter(prefix="/reference", tags=["reference data"])


class ReferenceRead(BaseModel):
    kind: str
    datasets: list[str]


@router.get(
    "/{kind}",
    summary="Datasets designated as the instance's reference data of a kind",
    description="Kinds: emission_factors, sequestration_factors, climate.",
)
def get_reference(kind: str, session: SessionDep) -> ReferenceRead:
    return ReferenceRead(kind=kind, datasets=reference_data.get(session, kind))


@router.put(
    "/{kind}",
    summary="Designate the instance's reference datasets of a kind (admin; audited)",
    description="The body is the full list of dataset ids of that kind; it replaces the previous.",
)
def put_reference(
    kind: str,
    datasets: Annotated[list[str], Body(max_length=1000)],
    session: SessionDep,
    ctx: ContextDep,
    _admin: AdminDep,
) -> ReferenceRead:
    return ReferenceRead(kind=kind, datasets=reference_data.put(session, ctx, kind, datasets))
