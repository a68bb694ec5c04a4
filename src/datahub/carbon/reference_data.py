"""Reference data is not anyone's to change (contract §5b).

Emission factors, sequestration factors and climate (HDD) data enter a figure only from datasets
of the producer of the data they apply to, or from datasets an admin designated as the instance's
reference for that kind. Designations are read by anyone and set by an admin, audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy.orm import Session

from datahub.accounts.caller import RequestContext
from datahub.audit import service as audit
from datahub.carbon import repository
from datahub.errors import FieldError, NotFound, ValidationFailed

REFERENCE_KINDS: Final = ("emission_factors", "sequestration_factors", "climate")


def _kind(kind: str) -> str:
    if kind not in REFERENCE_KINDS:
        raise NotFound(f"no reference data of kind {kind!r} (one of {', '.join(REFERENCE_KINDS)})")
    return kind


def get(session: Session, kind: str) -> list[str]:
    return sorted(repository.designations(session).get(_kind(kind), ()))


def put(session: Session, ctx: RequestContext, kind: str, dataset_ids: Sequence[str]) -> list[str]:
    """Replace the designations of ``kind`` (the caller is an admin: it may see every dataset)."""
    _kind(kind)
    wanted = list(dict.fromkeys(dataset_ids))
    kinds = repository.dataset_kinds(session, wanted)
    errors = [
        FieldError(
            index,
            "datasets",
            f"{dataset_id!r} is not a dataset of kind {kind!r}",
        )
        for index, dataset_id in enumerate(wanted, start=1)
        if kinds.get(dataset_id) != kind
    ]
    if errors:
        raise ValidationFailed(detail=errors[0].message, errors=errors)
    before = get(session, kind)
    repository.set_designations(session, kind, wanted)
    audit.record(
        session,
        audit.event_for(
            ctx,
            "reference.update",
            detail={"kind": kind, "before": before, "after": sorted(wanted)},
        ),
    )
    return sorted(wanted)


def may_apply(
    dataset_id: str, dataset_org: str | None, producer: str | None, designated: frozenset[str]
) -> bool:
    """May data of ``dataset_id`` (of ``dataset_org``) enter figures of ``producer``'s data?"""
    return dataset_id in designated or (producer is not None and dataset_org == producer)
