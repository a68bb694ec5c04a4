"""What a territory's target and an actor's own have in common: the path they are written and
read with (contract §5 and §8)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypedDict, TypeVar, cast

from datahub.carbon.schemas import TargetWrite
from datahub.db.models import ActorTarget, Target
from datahub.errors import NotFound

_Target = TypeVar("_Target", Target, ActorTarget)


def path_fields(data: TargetWrite) -> dict[str, object]:
    """The path as written: reference and target years, the net aimed at, the pathway."""
    return {
        "reference_year": data.reference_year,
        "target_year": data.target_year,
        "target_net": data.target_net,
        "pathway": data.pathway,
    }


class PathRead(TypedDict):
    reference_year: int
    target_year: int
    target_net: float
    pathway: Literal["linear", "exponential"]
    updated_at: datetime


def read_fields(target: Target | ActorTarget) -> PathRead:
    """The path as read, with the time it was last set."""
    return {
        "reference_year": target.reference_year,
        "target_year": target.target_year,
        "target_net": target.target_net,
        "pathway": cast(Literal["linear", "exponential"], target.pathway),
        "updated_at": target.updated_at,
    }


def existing(target: _Target | None, owner: str) -> _Target:
    """``target``, or a 404 saying that ``owner`` has none."""
    if target is None:
        raise NotFound(f"{owner} has no target")
    return target
