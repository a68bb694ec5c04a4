"""Stage 4 of the read path: what secrecy withholds from a trajectory's cells.

An actor's trajectory applies the rule to its own contributions. A territory's takes the
decisions of :class:`datahub.carbon.disclosure.Disclosure`, which cover every territory at once
(so no territory can be subtracted from another), are taken from the aggregate-only facts alone,
before climate correction (so they do not depend on who asks or which territory is viewed), and
are memoised per process on the data versions.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from threading import Lock

from sqlalchemy.orm import Session

from datahub.carbon import repository
from datahub.carbon.activity import activity_records
from datahub.carbon.cells import Record, secret_actor
from datahub.carbon.climate_inputs import heating_shares
from datahub.carbon.disclosure import Disclosure, Family, Figure
from datahub.carbon.schemas import Basis
from datahub.carbon.scope import Scope, TrajectoryParams
from datahub.carbon.secrecy import Contribution, SecrecyOutcome, SecrecyRule, apply_secrecy
from datahub.carbon.sources import Source, Sources, every_source, facts_of, in_aggregate_somewhere
from datahub.licensing import service as grants
from datahub.licensing.registry import LicenceRegistry
from datahub.settings import Settings

_MemoKey = tuple[object, ...]


class _Memo:
    """A bounded, thread-safe, process-local memo (least recently used entries go first)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[_MemoKey, Disclosure] = OrderedDict()
        self._lock = Lock()

    def get(self, key: _MemoKey, compute: Callable[[], Disclosure]) -> Disclosure:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


#: Keyed by the data versions involved (their content hash and indexing stamp, so a reindex or
#: another database never reuses a stale entry), the rule and the basis: the figures are read
#: and the decisions taken once per data version, not per request.
_DISCLOSURES = _Memo(16)


def _stamp(source: Source) -> tuple[object, ...]:
    current = source.current
    return (current.version_id, current.dataset.id, current.dataset.organization_id, current.stamp)


def rule_of(settings: Settings) -> SecrecyRule:
    return SecrecyRule(settings.secrecy_min_actors, settings.secrecy_max_share)


def _disclosure(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    sources: Sequence[Source],
    designated: frozenset[str],
    climate: bool,
    basis: Basis,
) -> Disclosure:
    """The decisions over every figure that some view uses in aggregate (see
    :mod:`datahub.carbon.disclosure`), the same whoever asks, memoised on the data versions
    and on what each possible caller reads in full. ``sources`` are the caller's emission
    sources: the datasets some view uses in aggregate are among them, in full or not."""
    rule = rule_of(settings)
    shares = heating_shares(settings) if climate else {}
    aggregate = [s for s in sources if in_aggregate_somewhere(s)]
    factor_sources = every_source(session, licences, ["emission_factors"])
    knowers = grants.readers(session, [facts_of(s) for s in aggregate])
    key = (
        tuple(sorted(_stamp(s) for s in aggregate)),
        tuple(sorted(_stamp(s) for s in factor_sources)),
        tuple(sorted(designated)),
        tuple(sorted(shares.items())),
        rule,
        basis,
        tuple(sorted(tuple(sorted(k)) for k in knowers)),
    )

    def compute() -> Disclosure:
        by_version = {s.version_id: s for s in aggregate}
        figures = _aggregate_figures(session, by_version, factor_sources, designated, basis)
        edges = repository.rollup_ancestors(session, list(by_version))
        return Disclosure(figures, edges, rule, shares, knowers=knowers)

    return _DISCLOSURES.get(key, compute)


def _aggregate_figures(
    session: Session,
    by_version: Mapping[int, Source],
    factor_sources: Sequence[Source],
    designated: frozenset[str],
    basis: Basis,
) -> list[Figure]:
    """Every aggregate-only figure at its own territory, in tonnes of its gas."""

    def ids(kind: str) -> list[int]:
        return [v for v, s in by_version.items() if s.kind == kind]

    def figure(scope: str, record: Record, gas: str, tonnes: float) -> Figure:
        source = by_version[record.version_id]
        return Figure(
            scope,
            record.year,
            record.sector,
            record.ghg,
            gas,
            secret_actor(record.actor, source.current.dataset.id),
            source.producer or "",
            tonnes,
            source.current.dataset.id,
        )

    actors_only = basis == "actors"
    figures = []
    for scope, (version_id, year, sector, ghg, gas, actor, tonnes) in repository.own_emission_facts(
        session, ids("emissions"), actors_only=actors_only
    ):
        record = Record(version_id, year, sector, ghg, actor, tonnes)
        figures.append(figure(scope, record, gas, tonnes))
    activity = repository.own_activity_facts(session, ids("activity"), actors_only=actors_only)
    records = activity_records(
        session,
        [row for _, row in activity],
        factor_sources,
        by_version,
        set(),
        designated,
        strict=False,
    )
    for (scope, _row), record in zip(activity, records, strict=True):
        figures.append(figure(scope, record, "CO2e", record.value))
    return figures


def outcome(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    sources: Sources,
    designated_factors: frozenset[str],
    scope: Scope,
    params: TrajectoryParams,
    contributions: Sequence[Contribution],
) -> SecrecyOutcome | None:
    """What secrecy withholds from the cells of ``scope`` (None: nothing is aggregate-only)."""
    if not contributions:
        return None
    if scope.kind == "actor":
        return apply_secrecy(contributions, rule=rule_of(settings))
    disclosure = _disclosure(
        session,
        licences,
        settings,
        sources.emission,
        designated_factors,
        bool(repository.current_versions(session, ["climate"])),
        params.basis,
    )
    view = [s.current.dataset.id for s in sources.aggregate()]
    return disclosure.outcome(scope.territory or "", Family(scope.sector, params.by), view=view)
