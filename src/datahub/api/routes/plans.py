"""Territories' action plans and actors' own targets (contract §8): read by anyone, written by
admins and the territory's (actor's) organisation, audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from datahub.api.deps import ContextDep, SessionDep
from datahub.carbon import actor_targets, plans
from datahub.carbon.plan_schemas import ActorTargetRead, PlanRead, PlanWrite
from datahub.carbon.schemas import TargetWrite

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


@router.get("/actors/{actor_id}/target", summary="The actor's own target")
def get_actor_target(actor_id: str, session: SessionDep) -> ActorTargetRead:
    return actor_targets.get_target(session, actor_id)


@router.put(
    "/actors/{actor_id}/target",
    summary="Set the actor's own target (admin, producer of the actor's organisation)",
    description="The actor's organisation is the one with the actor's SIREN. The actor's "
    "trajectory then carries the target path, gap and budget, as a territory's does.",
)
def put_actor_target(
    actor_id: str, data: TargetWrite, session: SessionDep, ctx: ContextDep
) -> ActorTargetRead:
    return actor_targets.set_target(session, ctx, actor_id, data)
