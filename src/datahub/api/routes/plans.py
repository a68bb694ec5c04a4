"""Territories' action plans (contract §8): read by anyone, written by admins and the
territory's organisation, versioned and audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from datahub.api.deps import ContextDep, SessionDep
from datahub.carbon import plans
from datahub.carbon.plan_schemas import PlanRead, PlanWrite

router = APIRouter(tags=["trajectories"])


@router.get("/territories/{code}/plan", summary="The territory's action plan (latest version)")
def get_plan(
    code: str,
    session: SessionDep,
    version: Annotated[int | None, Query(ge=1, description="A former version.")] = None,
) -> PlanRead:
    return plans.get_plan(session, code, version)


@router.put(
    "/territories/{code}/plan",
    summary="Replace the territory's action plan (admin, producer of its organisation)",
    description="Stores the whole plan as a new version (audited as `plan.update`). The "
    "territory's organisation is the one whose SIREN is the EPCI's code. Actions are checked "
    "as a whole: known sectors and actors located in the territory, `start_year` ≤ `end_year`, "
    "absolute effects > 0 tCO2e/yr, relative effects in (0, 1], unique ids; each problem names "
    "`actions.<index>.<field>`.",
)
def put_plan(code: str, data: PlanWrite, session: SessionDep, ctx: ContextDep) -> PlanRead:
    return plans.put_plan(session, ctx, code, data)
