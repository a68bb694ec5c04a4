"""Trajectories over the pre-aggregated facts (contract §5), with licences flowing into results.

For each request:

1. Which datasets may be used: the current version of every carbon dataset, decided for the
   caller by :func:`datahub.licensing.policy.decide`. Readable → used in ``full``; not readable
   but its licence allows ``aggregate_publication`` → ``aggregate`` (emissions and activity only,
   through statistical secrecy); otherwise not used, and not listed either. Auxiliary kinds
   (factors, land use, climate) are used only when readable.
2. Cells ``(year, key)`` from the facts of the scope (key = sector, gas or ``total``), converted
   with the GWP set of the request; activity quantities × their factor (unit-checked: a mismatch
   is a 422 naming the row). Climate correction, if asked, scales heating-sensitive sectors
   before the cells are keyed.
3. Secrecy on the aggregate-only contributions (:mod:`datahub.carbon.secrecy`); rows naming no
   actor in an aggregate-only dataset count as one pseudo-actor, so they never pass alone. The
   decisions cover every territory at once (so no territory can be subtracted from another),
   are taken from the aggregate-only facts alone, before climate correction (so they do not
   depend on who asks or which territory is viewed), and are memoised per process.
4. Sequestration, target, gap and projection through :mod:`datahub.carbon.trajectory`.
5. One ``dataset.trajectory_use`` audit event per shared or restricted dataset used.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from threading import Lock
from typing import Literal, cast

from sqlalchemy.orm import Session

from datahub.accounts.caller import ANONYMOUS, Caller, RequestContext
from datahub.audit import service as audit
from datahub.carbon import project_inputs, reference_data, repository, steering
from datahub.carbon.disclosure import Disclosure, Family, Figure, key_of
from datahub.carbon.indexing import most_specific_first, tco2e_per_unit
from datahub.carbon.schemas import (
    Approach,
    Basis,
    By,
    GapPoint,
    PathPoint,
    ProjectionOut,
    SeriesPoint,
    SourceOut,
    TargetOut,
    TargetRead,
    TargetWrite,
    TrajectoryRead,
    TrajectoryScope,
    Use,
    WithheldOut,
)
from datahub.carbon.secrecy import (
    Contribution,
    SecrecyOutcome,
    SecrecyRule,
    apply_secrecy,
)
from datahub.carbon.sectors import HEATING_SENSITIVE_SECTORS, LULUCF, SECTORS
from datahub.carbon.sequestration import FactorTable, SequestrationFactor
from datahub.carbon.trajectory import (
    TargetSpec,
    TrajectoryResult,
    build_trajectory,
    climate_correct,
    reference_hdd,
)
from datahub.carbon.units import (
    Gas,
    GwpSet,
    gwp,
)
from datahub.catalog.service import Resolved, attribution
from datahub.db.models import ActorTarget, Target
from datahub.errors import DatahubError, FieldError, NotFound, ValidationFailed
from datahub.licensing import policy
from datahub.licensing import service as grants
from datahub.licensing.registry import Licence, LicenceRegistry
from datahub.settings import Settings
from datahub.territories import service as territories
from datahub.vocabulary import DEMO_TAG

EMISSION_KINDS = ("emissions", "activity")
AUX_KINDS = (
    "emission_factors",
    "sequestration_factors",
    "land_use",
    "land_use_change",
    "climate",
    "sequestration_project",
)
TOTAL_KEY = "total"
_DIGITS = 6


@dataclass(frozen=True)
class TrajectoryParams:
    year_from: int | None = None
    year_to: int | None = None
    by: By = "sector"
    basis: Basis = "inventory"
    approach: Approach = "territorial"
    gwp: GwpSet | None = None
    climate_corrected: bool = False
    interpolate: bool = False
    reference: str | None = None
    scenario: Literal["plan"] | None = None
    coverage: bool = False


@dataclass(frozen=True)
class Scope:
    territory: str | None = None
    sector: str | None = None
    actor: str | None = None

    @property
    def kind(self) -> Literal["territory", "sector", "actor"]:
        if self.actor is not None:
            return "actor"
        return "sector" if self.sector is not None else "territory"


@dataclass(frozen=True)
class Source:
    current: repository.CurrentVersion
    licence: Licence
    decision: policy.Decision
    use: Use

    @property
    def version_id(self) -> int:
        return self.current.version_id


@dataclass
class Trajectory:
    """A computed trajectory: the maths result plus what the response must say about it."""

    read: TrajectoryRead
    result: TrajectoryResult
    licences: list[Licence] = field(default_factory=list)
    #: The name of the scope's territory (an actor's: its home), for people.
    territory_name: str | None = None
    #: Drawn (partly) from synthetic demonstration datasets (tagged ``DEMO_TAG``).
    demo: bool = False


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, _DIGITS) + 0.0


# --- which datasets may be used -----------------------------------------------------------------


def _sources(
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
    active = grants.active_grants(session, caller, [c.dataset.id for c in currents])
    out = []
    for current in currents:
        dataset = current.dataset
        decision = policy.decide(
            caller,
            policy.DatasetFacts(
                dataset.id,
                dataset.level,
                dataset.organization_id,
                active.get(dataset.id, ()),
            ),
        )
        licence = licences.get(dataset.licence_id)
        if decision.data:
            out.append(Source(current, licence, decision, "full"))
        elif allow_aggregate and licence.aggregate_publication:
            out.append(Source(current, licence, decision, "aggregate"))
    return out


def _producer(source: Source) -> str | None:
    return source.current.dataset.organization_id


def _applicable(
    sources: Sequence[Source], producer: str | None, designated: frozenset[str]
) -> list[Source]:
    """The reference data that may enter figures of ``producer``'s data (contract §5b): its
    own datasets first, then those designated as the instance's reference; each most recently
    updated first."""
    allowed = [
        s
        for s in sources
        if reference_data.may_apply(s.current.dataset.id, _producer(s), producer, designated)
    ]
    return sorted(allowed, key=lambda s: producer is None or _producer(s) != producer)


# --- cells --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    version_id: int
    year: int
    sector: str
    ghg: str
    actor: str
    value: float
    scope: str = ""  # the territory the figure is counted at (own facts only)


def _emission_records(
    rows: Iterable[tuple[int, int, str, str, str, str, float]], gwp_set: GwpSet
) -> list[Record]:
    out = []
    for version_id, year, sector, ghg, gas, actor, tonnes in rows:
        factor = 1.0 if gas == "CO2e" else gwp(cast(Gas, gas), gwp_set)
        out.append(Record(version_id, year, sector, ghg, actor, tonnes * factor))
    return out


def _reraise_with_dataset(exc: DatahubError, source: Source) -> DatahubError:
    """An error about a row, as the caller may hear it (contract §5b).

    A caller who may read the data gets the row, its values and the dataset's id; one who may
    only see the dataset gets its id and nothing from the row (a factor id, a unit or a row
    number of confidential data is data); one who may not know of it, not even the id.
    """
    dataset_id = source.current.dataset.id
    if source.decision.data:
        exc.detail = f"dataset {dataset_id}: {exc.detail}"
        return exc
    where = f"dataset {dataset_id}" if source.decision.metadata else "a confidential dataset"
    message = (
        f"{where} holds rows this trajectory cannot be computed with (an emission factor or "
        "unit); its producer can see which"
    )
    return type(exc)(detail=message, errors=[FieldError(None, None, message)])


def _activity_records(
    session: Session,
    rows: Sequence[tuple[int, int, str, str, str, str, float, int]],
    factor_sources: Sequence[Source],
    by_version: Mapping[int, Source],
    used: set[int],
    designated: frozenset[str],
    *,
    strict: bool = True,
) -> list[Record]:
    """Quantities × the factor valid in their year, among the factors that may apply to the
    row's producer (:func:`_applicable`, in that order).

    Not ``strict``: a row without a usable factor counts as 0 instead of a 422 (for secrecy
    decisions; every trajectory containing that row is a 422, so it is never shown).
    """
    if not rows:
        return []
    candidates: dict[str, list[repository.FactorRow]] = defaultdict(list)
    factor_ids = {r[4] for r in rows}
    for found in repository.emission_factors(
        session, [s.version_id for s in factor_sources], factor_ids
    ):
        candidates[found.factor_id].append(found)
    orders: dict[str | None, dict[int, int]] = {}
    multipliers: dict[tuple[int, str, str, int], tuple[float, int | None]] = {}
    out = []
    for version_id, year, sector, actor, factor_id, unit, quantity, first_row in rows:
        key = (version_id, factor_id, unit, year)
        known = multipliers.get(key)
        if known is None:
            producer = _producer(by_version[version_id])
            order = orders.get(producer)
            if order is None:
                allowed = _applicable(factor_sources, producer, designated)
                order = orders[producer] = {s.version_id: i for i, s in enumerate(allowed)}
            options = sorted(
                (o for o in candidates.get(factor_id, ()) if o.version_id in order),
                key=lambda option: order[option.version_id],
            )
            try:
                known = _multiplier(factor_id, options, unit, year, first_row)
            except DatahubError as exc:
                if strict:
                    raise _reraise_with_dataset(exc, by_version[version_id]) from None
                known = (0.0, None)
            multipliers[key] = known
        if known[1] is not None:
            used.add(known[1])
        out.append(Record(version_id, year, sector, "CO2e", actor, quantity * known[0]))
    return out


def _multiplier(
    factor_id: str, options: Sequence[repository.FactorRow], unit: str, year: int, row: int
) -> tuple[float, int]:
    """tCO2e per ``unit`` with the first factor valid in ``year``, and its version."""
    factor = next(
        (
            option
            for option in options
            if (option.valid_from is None or option.valid_from.year <= year)
            and (option.valid_to is None or option.valid_to.year >= year)
        ),
        None,
    )
    if factor is None:
        message = f"no emission factor {factor_id!r} valid in {year} that you may use"
        raise ValidationFailed(
            detail=f"row {row}: {message}", errors=[FieldError(row, "factor", message)]
        )
    return tco2e_per_unit(unit, factor, row), factor.version_id


def _hdd(
    session: Session, sources: Sequence[Source], chain: Sequence[str], used: set[int]
) -> dict[int, float]:
    """HDD of the first territory of ``chain`` (most specific first) that has some."""
    order = {s.version_id: i for i, s in enumerate(sources)}
    rows = repository.hdd_by_year(session, list(order), list(chain))
    for territory in chain:
        found = [r for r in rows if r[1] == territory]
        if found:
            by_year: dict[int, float] = {}
            for version_id, _t, year, hdd in sorted(found, key=lambda r: -order[r[0]]):
                by_year[year] = hdd  # the most recently updated dataset wins
                used.add(version_id)
            return by_year
    return {}


def _climate_factors(
    session: Session,
    settings: Settings,
    sources: Sequence[Source],
    chain: Sequence[str],
    records: Sequence[Record],
    used: set[int],
) -> dict[tuple[int, str], float]:
    shares = {
        "residential": settings.heating_share_residential,
        "tertiary": settings.heating_share_tertiary,
    }
    heating: set[str] = set(HEATING_SENSITIVE_SECTORS)
    needed: dict[tuple[int, str], float] = {
        (r.year, r.sector): 1.0 for r in records if r.sector in heating
    }
    if not needed:
        return {}
    hdd = _hdd(session, sources, chain, used)
    if not hdd:
        message = "no heating degree days (climate dataset) for this territory or those around it"
        raise ValidationFailed(
            detail=message, errors=[FieldError(None, "climate_corrected", message)]
        )
    hdd_ref = reference_hdd(hdd, settings.hdd_reference_from, settings.hdd_reference_to)
    return climate_correct(needed, hdd, hdd_ref, shares)


@dataclass(frozen=True)
class _Reference:
    """The usable datasets of one kind of reference data and the ids designated for it."""

    sources: Sequence[Source]
    designated: frozenset[str]

    def to(self, producer: str | None) -> list[Source]:
        return _applicable(self.sources, producer, self.designated)


def _by_producer(sources: Iterable[Source]) -> dict[str | None, list[Source]]:
    out: dict[str | None, list[Source]] = defaultdict(list)
    for source in sources:
        out[_producer(source)].append(source)
    return out


def _climate_corrected(
    session: Session,
    settings: Settings,
    climate: _Reference,
    chain: Sequence[str],
    records: Sequence[Record],
    by_version: Mapping[int, Source],
    used: set[int],
) -> list[Record]:
    """Records corrected with the HDD that may apply to each record's producer."""
    groups: dict[str | None, list[Record]] = defaultdict(list)
    for record in records:
        groups[_producer(by_version[record.version_id])].append(record)
    factors = {
        producer: _climate_factors(session, settings, climate.to(producer), chain, group, used)
        for producer, group in groups.items()
    }
    return [
        replace(
            r,
            value=r.value
            * factors[_producer(by_version[r.version_id])].get((r.year, r.sector), 1.0),
        )
        for r in records
    ]


# --- sequestration ------------------------------------------------------------------------------


def _factor_table(
    session: Session, sources: Sequence[Source]
) -> tuple[FactorTable, dict[str, set[str]], dict[tuple[str, str | None], int]]:
    """Factors of the usable datasets; for a (key, territory) given twice, the most recently
    updated dataset wins. Also: territories with their own factor per key, and which version
    gave each factor."""
    order = {s.version_id: i for i, s in enumerate(sources)}
    rows = sorted(
        repository.sequestration_factors(session, list(order)), key=lambda r: (order[r[0]], r[1])
    )
    factors: list[SequestrationFactor] = []
    origin: dict[tuple[str, str | None], int] = {}
    specific: dict[str, set[str]] = defaultdict(set)
    for version_id, _row, kind, key, territory, value in rows:
        if (key, territory) in origin:
            continue
        origin[(key, territory)] = version_id
        if territory:
            specific[key].add(territory)
        if kind == "flow":
            factors.append(
                SequestrationFactor(value, "tCO2e/ha/yr", land_use=key, territory=territory)
            )
        else:
            start, _, end = key.partition("->")
            factors.append(
                SequestrationFactor(
                    value, "tCO2e/ha", from_land_use=start, to_land_use=end, territory=territory
                )
            )
    return FactorTable(factors), specific, origin


def _sequestration(
    session: Session,
    land_sources: Sequence[Source],
    factor_sources: Sequence[Source],
    code: str,
    chain: Sequence[str],
    used: set[int],
) -> dict[int, float]:
    """Σ area × flow − Σ change area × change factor, for ``code`` and what lies inside it.

    The facts hold areas rolled up per territory. The factor of an area is that of the most
    specific territory of its chain having one, so for each key: every territory inside
    ``code`` with its own factor takes its area minus that of the factor territories nested in
    it; the rest of ``code`` takes the factor found along ``code``'s own chain (or the default).
    Reads O(years × keys × territories-with-their-own-factor-inside) rows. Factor territories
    are expected to nest (commune inside EPCI inside département).
    """
    if not land_sources or not factor_sources:
        return {}
    table, specific, origin = _factor_table(session, factor_sources)
    all_specific = set().union(*specific.values()) if specific else set()
    inside: set[str] = set()
    if all_specific - set(chain):
        inside = (all_specific & territories.scope(session, code)) - {code}
    chains = {t: most_specific_first(territories.ancestors(session, t)) for t in inside}
    areas: dict[tuple[str, int, str, str], float] = defaultdict(float)
    for version_id, scope, year, kind, key, hectares in repository.land_areas(
        session, [s.version_id for s in land_sources], [code, *sorted(inside)]
    ):
        areas[(scope, year, kind, key)] += hectares
        used.add(version_id)
    own_chain = [code, *chain]
    result: dict[int, float] = defaultdict(float)
    for (scope, year, kind, key), total in list(areas.items()):
        if scope != code:
            continue
        owners = {t for t in inside if t in specific.get(key, ())}
        nested: dict[str | None, float] = defaultdict(float)  # parent factor territory → area
        for t in owners:
            parent = next((p for p in chains[t] if p in owners), None)
            nested[parent] += areas.get((t, year, kind, key), 0.0)
        parts: list[tuple[float, float | None, str | None]] = [
            (total - nested[None], table.lookup(key, own_chain), None)
        ]
        for t in owners:
            own_area = areas.get((t, year, kind, key), 0.0) - nested.get(t, 0.0)
            parts.append((own_area, table.lookup(key, [t]), t))
        for hectares, factor, where in parts:
            if factor is None or hectares == 0:
                continue
            source_key = (key, where) if (key, where) in origin else None
            if source_key is None:
                hit = next((c for c in own_chain if (key, c) in origin), None)
                source_key = (key, hit)
            if source_key in origin:
                used.add(origin[source_key])
            sign = 1.0 if kind == "flow" else -1.0
            result[year] += sign * hectares * factor
    return dict(result)


# --- secrecy across territories -----------------------------------------------------------------


def _secret_actor(actor: str, source: Source) -> str:
    """Whom an aggregate-only figure belongs to: rows naming no actor are one pseudo-actor."""
    return actor or f"inventory:{source.current.dataset.id}"


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
    rule = SecrecyRule(settings.secrecy_min_actors, settings.secrecy_max_share)
    shares = (
        {
            "residential": settings.heating_share_residential,
            "tertiary": settings.heating_share_tertiary,
        }
        if climate
        else {}
    )
    aggregate = [s for s in sources if _in_aggregate_somewhere(s)]
    factor_sources = _every_source(session, licences, ["emission_factors"])
    knowers = grants.readers(session, [_facts(s) for s in aggregate])
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


def _in_aggregate_somewhere(source: Source) -> bool:
    """Whether some caller (the anonymous one, at least) uses the dataset in aggregate."""
    return source.current.dataset.level != "open" and source.licence.aggregate_publication


def _facts(source: Source) -> policy.DatasetFacts:
    dataset = source.current.dataset
    return policy.DatasetFacts(dataset.id, dataset.level, dataset.organization_id)


def _every_source(
    session: Session, licences: LicenceRegistry, kinds: Sequence[str]
) -> list[Source]:
    """Every current version of ``kinds``: what secrecy decisions, taken for every caller at
    once, apply (nothing of it is shown)."""
    return _sources(session, licences, Caller(role="admin"), kinds, None, allow_aggregate=False)


def _aggregate_figures(
    session: Session,
    by_version: Mapping[int, Source],
    factor_sources: Sequence[Source],
    designated: frozenset[str],
    basis: Basis,
) -> list[Figure]:
    """Every aggregate-only figure at its own territory, in tonnes of its gas."""

    def ids(kind: str) -> list[int]:
        return [v for v, s in by_version.items() if s.current.dataset.kind == kind]

    def figure(scope: str, record: Record, gas: str, tonnes: float) -> Figure:
        source = by_version[record.version_id]
        return Figure(
            scope,
            record.year,
            record.sector,
            record.ghg,
            gas,
            _secret_actor(record.actor, source),
            source.current.dataset.organization_id or "",
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
    records = _activity_records(
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


# --- the trajectory -----------------------------------------------------------------------------


def _chain(session: Session, code: str) -> list[str]:
    return most_specific_first(territories.ancestors(session, code))


def _compute(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    scope: Scope,
    params: TrajectoryParams,
) -> Trajectory:
    caller = ctx.caller
    gwp_set: GwpSet = params.gwp or settings.gwp
    # One actor's figures from data used only in aggregate never pass secrecy (one actor holds
    # the whole cell): leave such datasets out of an actor's trajectory altogether, since listing
    # withheld cells would tell that the actor has confidential data, and when, and where.
    one_actor_passes = settings.secrecy_min_actors <= 1 and settings.secrecy_max_share >= 1
    emission_sources = _sources(
        session,
        licences,
        caller,
        EMISSION_KINDS,
        params.approach,
        allow_aggregate=scope.kind != "actor" or one_actor_passes,
    )
    aux = _sources(session, licences, caller, AUX_KINDS, None, allow_aggregate=False)

    def of_kind(kind: str) -> list[Source]:
        return [s for s in aux if s.current.dataset.kind == kind]

    designations = repository.designations(session)
    designated_factors = designations.get("emission_factors", frozenset())

    by_version = {s.version_id: s for s in emission_sources}
    emissions_ids = [
        s.version_id for s in emission_sources if s.current.dataset.kind == "emissions"
    ]
    activity_ids = [s.version_id for s in emission_sources if s.current.dataset.kind == "activity"]
    filters: dict[str, object] = {"sector": scope.sector}
    if scope.kind == "actor":
        filters["actor"] = scope.actor
    else:
        # A territory's cells need no actor: secrecy is decided elsewhere (_disclosure), so
        # the read is a few rows per year whatever the number of actors in scope.
        filters.update(scope=scope.territory, actors_only=params.basis == "actors")
        filters["by_actor"] = False
    raw_emissions = repository.emission_cells(session, emissions_ids, **filters)  # type: ignore[arg-type]
    raw_activity = repository.activity_cells(session, activity_ids, **filters)  # type: ignore[arg-type]

    used: set[int] = set()
    records = _emission_records(raw_emissions, gwp_set)
    records += _activity_records(
        session, raw_activity, of_kind("emission_factors"), by_version, used, designated_factors
    )
    used.update(r.version_id for r in records)

    home = scope.territory
    if scope.kind == "actor":
        home = territories.get_actor(session, scope.actor or "").territory_code
    chain = _chain(session, home) if home else []

    if params.climate_corrected and home:
        records = _climate_corrected(
            session,
            settings,
            _Reference(of_kind("climate"), designations.get("climate", frozenset())),
            [home, *chain],
            records,
            by_version,
            used,
        )

    cells: dict[tuple[int, str], float] = defaultdict(float)
    contributions: list[Contribution] = []
    for record in records:
        key = key_of(record.sector, record.ghg, params.by)
        cells[(record.year, key)] += record.value
        source = by_version[record.version_id]
        if source.use == "aggregate":
            actor = _secret_actor(record.actor, source)
            contributions.append(Contribution(record.year, key, actor, record.value))
    secrecy: SecrecyOutcome | None = None
    if contributions and scope.kind == "actor":
        rule = SecrecyRule(settings.secrecy_min_actors, settings.secrecy_max_share)
        secrecy = apply_secrecy(contributions, rule=rule)
    elif contributions:
        disclosure = _disclosure(
            session,
            licences,
            settings,
            emission_sources,
            designated_factors,
            bool(repository.current_versions(session, ["climate"])),
            params.basis,
        )
        view = [s.current.dataset.id for s in emission_sources if s.use == "aggregate"]
        secrecy = disclosure.outcome(
            scope.territory or "", Family(scope.sector, params.by), view=view
        )

    sequestration: dict[int, float] = {}
    if scope.territory and (scope.kind == "territory" or scope.sector == LULUCF):
        land = of_kind("land_use") + of_kind("land_use_change")
        removal = _Reference(
            of_kind("sequestration_factors"),
            designations.get("sequestration_factors", frozenset()),
        )
        for producer, land_of in _by_producer(land).items():
            found = _sequestration(
                session, land_of, removal.to(producer), scope.territory, chain, used
            )
            for year, value in found.items():
                sequestration[year] = sequestration.get(year, 0.0) + value
        years = {year for year, _ in cells} | set(sequestration)
        for producer, projects in _by_producer(of_kind("sequestration_project")).items():
            removal_factors = removal.to(producer)
            if not removal_factors:
                continue
            table, _specific, origin = _factor_table(session, removal_factors)
            extra = project_inputs.adjustment(
                session,
                [s.version_id for s in projects],
                [s.version_id for s in land],
                table,
                scope.territory,
                years,
            )
            if extra:
                used.update([s.version_id for s in projects], origin.values())
            for year, value in extra.items():
                sequestration[year] = sequestration.get(year, 0.0) + value

    target_row: Target | ActorTarget | None = None
    if scope.kind == "territory" and scope.territory:
        target_row = repository.get_target(session, scope.territory)
    elif scope.kind == "actor" and scope.actor:
        target_row = repository.get_actor_target(session, scope.actor)
    spec = (
        TargetSpec(
            target_row.reference_year,
            target_row.target_year,
            target_row.target_net,
            cast(Literal["linear", "exponential"], target_row.pathway),
            # An actor's own target starts from its own figures, which its organisation sees.
            target_row.reference_net if isinstance(target_row, Target) else None,
        )
        if target_row
        else None
    )
    arguments = {
        "secrecy": secrecy,
        "interpolate": params.interpolate,
        "year_from": params.year_from,
        "year_to": params.year_to,
    }
    note = None
    try:
        result = build_trajectory(cells, sequestration, target=spec, **arguments)  # type: ignore[arg-type]
    except ValidationFailed as exc:
        if spec is None:
            raise
        note = exc.detail
        result = build_trajectory(cells, sequestration, **arguments)  # type: ignore[arg-type]

    sources = [s for s in [*emission_sources, *aux] if s.version_id in used]
    _audit(session, ctx, sources, scope)
    read = TrajectoryRead(
        scope=TrajectoryScope(
            territory=scope.territory if scope.kind != "actor" else home,
            sector=scope.sector,
            actor=scope.actor,
            basis=None if scope.kind == "actor" else params.basis,
            approach=params.approach,
            gwp=gwp_set,
            by=params.by,
            climate_corrected=params.climate_corrected,
        ),
        series=[
            SeriesPoint(
                year=y.year,
                emissions=_round(y.emissions),
                sequestration=_round(y.sequestration),
                net=_round(y.net),
                interpolated=y.interpolated,
                breakdown={k: round(v, _DIGITS) + 0.0 for k, v in y.breakdown.items()},
            )
            for y in result.series
        ],
        target=_target_out(spec, result, note),
        gap=[GapPoint(year=p.year, value=round(p.value, _DIGITS) + 0.0) for p in result.gap],
        projection=ProjectionOut(
            neutrality_year=result.projection.neutrality_year,
            slope=round(result.projection.slope, _DIGITS),
            intercept=round(result.projection.intercept, _DIGITS),
        )
        if result.projection
        else None,
        withheld=[WithheldOut(year=c.year, key=c.key, reason=c.reason) for c in result.withheld],
        sources=[_source_out(s) for s in sorted(sources, key=_source_order)],
    )
    steered = steering.steer(
        session, licences, ctx, read, result, params.reference, params.scenario
    )
    licence_list = {s.licence.id: s.licence for s in sources}
    licence_list |= {licence.id: licence for licence in steered.licences}
    return Trajectory(
        steered.read,
        result,
        [licence_list[k] for k in sorted(licence_list)],
        territory_name=territories.get(session, home).name if home else None,
        demo=any(DEMO_TAG in (s.current.dataset.tags or ()) for s in sources),
    )


def _target_out(
    spec: TargetSpec | None, result: TrajectoryResult, note: str | None
) -> TargetOut | None:
    if spec is None:
        return None
    target = result.target
    return TargetOut(
        reference_year=spec.reference_year,
        target_year=spec.target_year,
        target_net=spec.target_net,
        pathway=spec.pathway,
        reference_net=_round(target.reference_net) if target else None,
        path=[PathPoint(year=p.year, net=round(p.value, _DIGITS) + 0.0) for p in target.path]
        if target
        else [],
        note=note,
    )


def _source_order(source: Source) -> tuple[int, str]:
    return (0 if source.decision.metadata else 1, source.current.dataset.id)


def _source_out(source: Source) -> SourceOut:
    if not source.decision.metadata:
        # Used in aggregate only, by a caller who may not know the dataset exists (§2).
        return SourceOut(
            dataset=None,
            version=None,
            licence=source.licence.id,
            licence_url=source.licence.url,
            attribution=f"confidential data ({source.licence.title}), aggregated under "
            "statistical secrecy",
            use="aggregate",
        )
    resolved = Resolved(source.current.dataset, source.licence, source.decision)
    return SourceOut(
        dataset=source.current.dataset.id,
        version=source.current.number,
        licence=source.licence.id,
        licence_url=source.licence.url,
        attribution=attribution(resolved),
        use=source.use,
    )


def _audit(session: Session, ctx: RequestContext, sources: Sequence[Source], scope: Scope) -> None:
    where = {k: v for k, v in vars(scope).items() if v is not None}
    for source in sources:
        dataset = source.current.dataset
        if dataset.level == "open":
            continue
        audit.record(
            session,
            audit.event_for(
                ctx,
                "dataset.trajectory_use",
                dataset_id=dataset.id,
                version=source.current.number,
                licence=dataset.licence_id,
                basis=source.decision.basis if source.use == "full" else "aggregate",
                detail={"use": source.use, **where},
            ),
        )


# --- public entry points ------------------------------------------------------------------------


def territory_trajectory(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    code: str,
    params: TrajectoryParams,
) -> Trajectory:
    territories.get(session, code)
    return _with_coverage(session, licences, settings, ctx, Scope(territory=code), params)


def sector_trajectory(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    sector: str,
    code: str,
    params: TrajectoryParams,
) -> Trajectory:
    if sector not in SECTORS:
        raise NotFound(f"no sector {sector!r}; one of {', '.join(SECTORS)}")
    territories.get(session, code)
    scope = Scope(territory=code, sector=sector)
    return _with_coverage(session, licences, settings, ctx, scope, params)


def actor_trajectory(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    actor_id: str,
    params: TrajectoryParams,
) -> Trajectory:
    actor = territories.get_actor(session, actor_id)
    trajectory = _compute(session, licences, settings, ctx, Scope(actor=actor_id), params)
    home = TrajectoryParams(
        params.year_from,
        params.year_to,
        approach=params.approach,
        gwp=params.gwp,
        climate_corrected=params.climate_corrected,
    )
    territory = _compute(
        session, licences, settings, ctx, Scope(territory=actor.territory_code), home
    )
    read = steering.with_contribution(
        trajectory.read, trajectory.result, territory.result, actor.territory_code, actor.sector
    )
    return replace(trajectory, read=read)


def _with_coverage(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    scope: Scope,
    params: TrajectoryParams,
) -> Trajectory:
    """The trajectory, with ``coverage`` (actors over inventory) when asked: the other basis
    is computed for the same caller, with the same options."""
    trajectory = _compute(session, licences, settings, ctx, scope, params)
    if not params.coverage:
        return trajectory
    other: Basis = "inventory" if params.basis == "actors" else "actors"
    plain = replace(params, basis=other, reference=None, scenario=None, coverage=False)
    second = _compute(session, licences, settings, ctx, scope, plain)
    actors, inventory = (trajectory, second) if other == "inventory" else (second, trajectory)
    read = steering.with_coverage(trajectory.read, actors.result, inventory.result)
    return replace(trajectory, read=read)


def caller_view(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    caller: Caller,
    scope: Scope,
    approach: Approach,
) -> tuple[tuple[object, ...], ...]:
    """What a trajectory of ``scope`` may use for ``caller``, as plain values for a cache key:
    per dataset version, its use (full or aggregate), the basis audited and whether the caller
    may know it exists, with the dataset's licence and last change. Same sources as
    :func:`_compute` takes, so two callers with the same view get the same result."""
    one_actor_passes = settings.secrecy_min_actors <= 1 and settings.secrecy_max_share >= 1
    emission = _sources(
        session,
        licences,
        caller,
        EMISSION_KINDS,
        approach,
        allow_aggregate=scope.kind != "actor" or one_actor_passes,
    )
    aux = _sources(session, licences, caller, AUX_KINDS, None, allow_aggregate=False)
    view = tuple(
        (
            s.version_id,
            s.use,
            s.decision.basis if s.use == "full" else "aggregate",
            s.decision.metadata,
            s.current.dataset.licence_id,
            s.current.dataset.level,
            s.current.dataset.updated_at.isoformat(),
        )
        for s in (*emission, *aux)
    )
    if not any(s.use == "aggregate" for s in emission):
        return view
    # What is withheld depends on what every possible caller reads in full (a new grant to
    # anyone changes it): see _disclosure.
    aggregate = [_facts(s) for s in emission if _in_aggregate_somewhere(s)]
    readers = sorted(tuple(sorted(k)) for k in grants.readers(session, aggregate))
    return (*view, ("readers", *readers))


# --- targets ------------------------------------------------------------------------------------


def _target_read(target: Target) -> TargetRead:
    return TargetRead(
        territory=target.territory_code,
        reference_year=target.reference_year,
        target_year=target.target_year,
        target_net=target.target_net,
        pathway=cast(Literal["linear", "exponential"], target.pathway),
        reference_net=target.reference_net,
        updated_at=target.updated_at,
    )


def get_target(session: Session, code: str) -> TargetRead:
    territories.get(session, code)
    target = repository.get_target(session, code)
    if target is None:
        raise NotFound(f"territory {code!r} has no target")
    return _target_read(target)


def published_net(
    session: Session, licences: LicenceRegistry, settings: Settings, code: str, year: int
) -> float | None:
    """The net of ``year`` as everyone is shown it (an anonymous caller's view), None when the
    year has no data; a withheld one is a 422, since a path drawn from it would disclose it."""
    public = RequestContext(ANONYMOUS, purpose="target reference figure")
    params = TrajectoryParams(by="none")
    series = _compute(session, licences, settings, public, Scope(territory=code), params)
    shown = next((p for p in series.read.series if p.year == year), None)
    if shown is None:
        return None
    if shown.net is None:
        raise ValidationFailed(
            f"the net of {year} is withheld from the public (statistical secrecy)",
            errors=[
                FieldError(
                    None, "reference_net", "give the reference figure published with the target"
                )
            ],
        )
    return shown.net


def set_target(
    session: Session, licences: LicenceRegistry, settings: Settings, code: str, data: TargetWrite
) -> TargetRead:
    """Create or replace a territory's target (the route checks the caller's role).

    The reference year's net is stored with it — as given, or as published now — so that every
    caller gets the same path, whatever data each may read.
    """
    territories.get(session, code)
    reference_net = data.reference_net
    if reference_net is None:
        reference_net = published_net(session, licences, settings, code, data.reference_year)
    target = repository.get_target(session, code)
    if target is None:
        target = Target(territory_code=code)
        session.add(target)
    target.reference_year = data.reference_year
    target.target_year = data.target_year
    target.target_net = data.target_net
    target.pathway = data.pathway
    target.reference_net = reference_net
    session.flush()
    session.refresh(target)
    return _target_read(target)
