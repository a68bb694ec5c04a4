"""Actors' own targets (contract §8), set by the actor's organisation: the organisation whose
SIREN is the actor's (an admin may set any). Read by anyone; each write is audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from datahub.accounts.caller import RequestContext
from datahub.audit import service as audit
from datahub.carbon import repository, targets
from datahub.carbon.plan_schemas import ActorTargetRead
from datahub.carbon.schemas import TargetWrite
from datahub.db.models import ActorTarget
from datahub.errors import (
    DatahubError,
    FieldError,
    Forbidden,
    Unauthenticated,
    ValidationFailed,
)
from datahub.territories import service as territories


def _read(target: ActorTarget) -> ActorTargetRead:
    return ActorTargetRead(
        actor=target.actor_id,
        organization=target.organization_id,
        **targets.read_fields(target),
    )


def get_target(session: Session, actor_id: str) -> ActorTargetRead:
    territories.get_actor(session, actor_id)
    target = repository.get_actor_target(session, actor_id)
    return _read(targets.existing(target, f"actor {actor_id!r}"))


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
    target = repository.save_target(
        session,
        repository.get_actor_target(session, actor_id) or ActorTarget(actor_id=actor_id),
        {**targets.path_fields(data), "organization_id": caller.organization_id},
    )
    audit.record(
        session,
        audit.event_for(
            ctx, "actor_target.update", detail={"actor": actor_id, **data.model_dump()}
        ),
    )
    return _read(target)
