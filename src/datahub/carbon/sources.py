"""Stage 1 of the read path: which datasets a trajectory may use, and on which basis.

The current version of every carbon dataset, decided for the caller by the catalogue (the same
decision as a dataset page). Readable → used in ``full``; not readable but its licence allows
``aggregate_publication`` → ``aggregate`` (emissions and activity only, through statistical
secrecy); otherwise not used, and not listed either. Auxiliary kinds (factors, land use,
climate) are used only when readable. Reference data applies to a producer's figures as
contract §5b says (:func:`applicable`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from datahub.accounts.caller import Caller
from datahub.carbon import reference_data, repository
from datahub.carbon.schemas import Use
from datahub.catalog import service as catalog
from datahub.licensing import policy
from datahub.licensing.registry import Licence, LicenceRegistry
from datahub.settings import Settings

EMISSION_KINDS = ("emissions", "activity")
AUX_KINDS = (
    "emission_factors",
    "sequestration_factors",
    "land_use",
    "land_use_change",
    "climate",
    "sequestration_project",
)


@dataclass(frozen=True)
class Source:
    current: repository.CurrentVersion
    licence: Licence
    decision: policy.Decision
    use: Use

    @property
    def version_id(self) -> int:
        return self.current.version_id

    @property
    def kind(self) -> str:
        return self.current.dataset.kind

    @property
    def producer(self) -> str | None:
        return self.current.dataset.organization_id


def usable(
    session: Session,
    licences: LicenceRegistry,
    caller: Caller,
    kinds: Sequence[str],
    approach: str | None,
    *,
    allow_aggregate: bool,
) -> list[Source]:
    """Current versions of ``kinds`` the caller may use, most recently updated first."""
    currents = repository.current_versions(session, kinds, approach)
    decisions = catalog.decisions(session, caller, [c.dataset for c in currents])
    out = []
    for current in currents:
        decision = decisions[current.dataset.id]
        licence = licences.get(current.dataset.licence_id)
        if decision.data:
            out.append(Source(current, licence, decision, "full"))
        elif allow_aggregate and licence.aggregate_publication:
            out.append(Source(current, licence, decision, "aggregate"))
    return out


def one_actor_passes(settings: Settings) -> bool:
    """Whether the secrecy rule lets a figure held by one actor through."""
    return settings.secrecy_min_actors <= 1 and settings.secrecy_max_share >= 1


@dataclass(frozen=True)
class Sources:
    """What one trajectory may use: emission kinds (full or aggregate) and auxiliary kinds."""

    emission: list[Source]
    aux: list[Source]

    @classmethod
    def for_scope(
        cls,
        session: Session,
        licences: LicenceRegistry,
        settings: Settings,
        caller: Caller,
        actor: bool,
        approach: str,
    ) -> Sources:
        # One actor's figures from data used only in aggregate never pass secrecy (one actor
        # holds the whole cell): leave such datasets out of an actor's trajectory altogether,
        # since listing withheld cells would tell that the actor has confidential data, and
        # when, and where.
        emission = usable(
            session,
            licences,
            caller,
            EMISSION_KINDS,
            approach,
            allow_aggregate=not actor or one_actor_passes(settings),
        )
        aux = usable(session, licences, caller, AUX_KINDS, None, allow_aggregate=False)
        return cls(emission, aux)

    def of_kind(self, kind: str) -> list[Source]:
        return [s for s in self.aux if s.kind == kind]

    def by_version(self) -> dict[int, Source]:
        return {s.version_id: s for s in self.emission}

    def aggregate(self) -> list[Source]:
        return [s for s in self.emission if s.use == "aggregate"]

    def used(self, version_ids: set[int]) -> list[Source]:
        return [s for s in (*self.emission, *self.aux) if s.version_id in version_ids]


def applicable(
    sources: Sequence[Source], producer: str | None, designated: frozenset[str]
) -> list[Source]:
    """The reference data that may enter figures of ``producer``'s data (contract §5b): its
    own datasets first, then those designated as the instance's reference; each most recently
    updated first."""
    allowed = [
        s
        for s in sources
        if reference_data.may_apply(s.current.dataset.id, s.producer, producer, designated)
    ]
    return sorted(allowed, key=lambda s: producer is None or s.producer != producer)


@dataclass(frozen=True)
class Reference:
    """The usable datasets of one kind of reference data and the ids designated for it."""

    sources: Sequence[Source]
    designated: frozenset[str]

    def to(self, producer: str | None) -> list[Source]:
        return applicable(self.sources, producer, self.designated)


def by_producer(sources: Iterable[Source]) -> dict[str | None, list[Source]]:
    out: dict[str | None, list[Source]] = defaultdict(list)
    for source in sources:
        out[source.producer].append(source)
    return out


def in_aggregate_somewhere(source: Source) -> bool:
    """Whether some caller (the anonymous one, at least) uses the dataset in aggregate."""
    return source.current.dataset.level != "open" and source.licence.aggregate_publication


def facts_of(source: Source) -> policy.DatasetFacts:
    dataset = source.current.dataset
    return policy.DatasetFacts(dataset.id, dataset.level, dataset.organization_id)


def every_source(session: Session, licences: LicenceRegistry, kinds: Sequence[str]) -> list[Source]:
    """Every current version of ``kinds``: what secrecy decisions, taken for every caller at
    once, apply (nothing of it is shown)."""
    return usable(session, licences, Caller(role="admin"), kinds, None, allow_aggregate=False)
