"""Actors' own targets (contract §8), set by the actor's organisation: the organisation whose
SIREN is the actor's (an admin may set any). Read by anyone; each write is audited."""

from __future__ import annotations

from typing import Literal, cast

from sqlalchemy.orm import Session

from datahub.accounts.caller import RequestContext
from datahub.audit import service as audit
from datahub.carbon import repository
from datahub.carbon.plan_schemas import ActorTargetRead
from datahub.carbon.schemas import TargetWrite
from datahub.db.models import ActorTarget
from datahub.errors import (
    DatahubError,
    FieldError,
    Forbidden,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from datahub.territories import service as territories


def _read(target: ActorTarget) -> ActorTargetRead:
    return ActorTargetRead(
        actor=target.actor_id,
        reference_year=target.reference_year,
        target_year=target.target_year,
        target_net=target.target_net,
        pathway=cast(Literal["linear", "exponential"], target.pathway),
        organization=target.organization_id,
        updated_at=target.updated_at,
    )


def get_target(session: Session, actor_id: str) -> ActorTargetRead:
    territories.get_actor(session, actor_id)
    target = repository.get_actor_target(session, actor_id)
    if target is None:
        raise NotFound(f"actor {actor_id!r} has no target")
    return _read(target)


def set_target(
    session: Session, ctx: RequestContext, actor_id: str, data: TargetWrite
) -> ActorTargetRead:
    actor = territories.get_actor(session, actor_id)
    caller = ctx.caller
    owner = repository.organization_with_siren(session, actor.siren) if actor.siren else None
    if not caller.is_admin and not (
        caller.role == "producer" and owner is not None and caller.organization_id == owner
    ):
        error: DatahubError = (
            Forbidden(
                "only an admin or a producer of the actor's organisation (same SIREN) may set "
                "its target"
            )
            if caller.authenticated
            else Unauthenticated("this operation needs an API token")
        )
        error.audit_event = audit.event_for(
            ctx,
            "actor_target.update",
            outcome="denied",
            detail={"actor": actor_id, "status": error.status},
        )
        raise error
    if data.reference_net is not None:
        raise ValidationFailed(
            "an actor's target starts from the actor's own figures",
            errors=[FieldError(None, "reference_net", "only a territory's target stores one")],
        )
    target = repository.get_actor_target(session, actor_id)
    if target is None:
        target = ActorTarget(actor_id=actor_id)
        session.add(target)
    target.reference_year = data.reference_year
    target.target_year = data.target_year
    target.target_net = data.target_net
    target.pathway = data.pathway
    target.organization_id = caller.organization_id
    session.flush()
    audit.record(
        session,
        audit.event_for(
            ctx, "actor_target.update", detail={"actor": actor_id, **data.model_dump()}
        ),
    )
    session.refresh(target)
    return _read(target)
