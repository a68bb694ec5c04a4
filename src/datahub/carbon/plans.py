"""Territories' action plans (contract §8): validated, versioned, audited.

Who may write a plan: an admin, or a producer of *the territory's organisation*, which is the
organisation whose SIREN is the territory's official code (an EPCI's code is its SIREN, e.g.
``epci:241700434`` ↔ the organisation with ``siren`` 241700434). Other levels (communes have
INSEE codes, not SIRENs) are written by an admin. Plans are public: anyone may read them.
Each PUT stores the whole plan as the next version; GET reads the latest or ``?version=``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from datahub.accounts.caller import RequestContext
from datahub.audit import service as audit
from datahub.carbon import repository
from datahub.carbon.plan_schemas import Action, PlanRead, PlanWrite
from datahub.carbon.scenario import Action as ScenarioAction
from datahub.carbon.sectors import SECTORS
from datahub.db.models import PlanVersion
from datahub.errors import (
    DatahubError,
    FieldError,
    Forbidden,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from datahub.territories import service as territories


def territory_organization(session: Session, code: str) -> str | None:
    """The organisation a territory belongs to (see the module docstring), if any."""
    level, _, official = code.partition(":")
    if level != "epci" or not official.isdigit() or len(official) != 9:
        return None
    return repository.organization_with_siren(session, official)


def check_writer(session: Session, ctx: RequestContext, code: str, action: str) -> None:
    """Who steers a territory: an admin, or a producer of the territory's organisation (the
    one whose SIREN is the EPCI's code). Its plan and its target move every caller's figures
    (gap, budget, scenario), so no other producer may write them; a refusal is audited."""
    caller = ctx.caller
    if caller.is_admin:
        return
    error: DatahubError
    if not caller.authenticated:
        error = Unauthenticated("this operation needs an API token")
    elif (
        caller.role == "producer"
        and caller.organization_id is not None
        and (caller.organization_id == territory_organization(session, code))
    ):
        return
    else:
        error = Forbidden(
            "only an admin or a producer of the territory's organisation (the organisation "
            "whose SIREN is the EPCI's code) may write its plan and its target"
        )
    error.audit_event = audit.event_for(
        ctx, action, outcome="denied", detail={"territory": code, "status": error.status}
    )
    raise error


def _validate(session: Session, code: str, actions: Sequence[Action]) -> None:
    """Known sectors and actors, years in order, sane effects, unique ids: all errors at once."""
    errors: list[FieldError] = []

    def fail(index: int, name: str, message: str) -> None:
        errors.append(FieldError(None, f"actions.{index}.{name}", message))

    seen: set[str] = set()
    inside: set[str] | None = None
    for index, action in enumerate(actions):
        if action.id in seen:
            fail(index, "id", f"action id {action.id!r} is given twice")
        seen.add(action.id)
        if action.sector not in SECTORS:
            fail(index, "sector", f"unknown sector {action.sector[:40]!r}; one of {SECTORS}")
        if action.end_year < action.start_year:
            fail(index, "end_year", "end_year must not come before start_year")
        value = action.effect.value
        if action.effect.kind == "absolute" and value <= 0:
            fail(index, "effect.value", "an absolute effect is a positive tCO2e/yr avoided")
        if action.effect.kind == "relative" and not 0 < value <= 1:
            fail(index, "effect.value", "a relative effect is a share: 0 < value ≤ 1")
        if action.actor is not None:
            try:
                actor = territories.get_actor(session, action.actor)
            except NotFound:
                fail(index, "actor", f"no actor {action.actor!r}")
                continue
            if inside is None:
                inside = territories.scope(session, code)
            if actor.territory_code not in inside:
                fail(index, "actor", f"actor {action.actor!r} is not located in {code}")
    if errors:
        raise ValidationFailed(
            detail=f"{len(errors)} problem(s) in the plan; first: {errors[0].field}: "
            f"{errors[0].message}",
            errors=errors,
        )


def _read(version: PlanVersion) -> PlanRead:
    return PlanRead(
        territory=version.territory_code,
        version=version.number,
        actions=[Action.model_validate(a) for a in version.actions],
        created_at=version.created_at,
        organization=version.organization_id,
    )


def get_plan(session: Session, code: str, number: int | None = None) -> PlanRead:
    territories.get(session, code)
    version = repository.plan_version(session, code, number)
    if version is None:
        which = f"no version {number} of its plan" if number is not None else "no plan"
        raise NotFound(f"territory {code!r} has {which}")
    return _read(version)


def latest(session: Session, code: str) -> PlanRead | None:
    """The latest version of a known territory's plan, if it has one."""
    version = repository.plan_version(session, code, None)
    return _read(version) if version else None


def put_plan(session: Session, ctx: RequestContext, code: str, data: PlanWrite) -> PlanRead:
    territories.get(session, code)
    check_writer(session, ctx, code, "plan.update")
    _validate(session, code, data.actions)
    latest = repository.plan_version(session, code, None)
    version = PlanVersion(
        territory_code=code,
        number=(latest.number + 1) if latest else 1,
        actions=[a.model_dump(mode="json") for a in data.actions],
        created_by=ctx.caller.user_id,
        organization_id=ctx.caller.organization_id,
    )
    repository.add_plan_version(session, version)
    audit.record(
        session,
        audit.event_for(
            ctx,
            "plan.update",
            version=version.number,
            detail={"territory": code, "actions": len(data.actions)},
        ),
    )
    session.refresh(version)
    return _read(version)


def scenario_actions(plan: PlanRead, sector: str | None) -> list[ScenarioAction]:
    """The plan's actions as the scenario maths takes them (one sector's, if given)."""
    return [
        ScenarioAction(a.id, a.sector, a.start_year, a.end_year, a.effect.kind, a.effect.value)
        for a in plan.actions
        if sector is None or a.sector == sector
    ]
