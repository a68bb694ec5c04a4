"""All SQL of the carbon engine: writing facts at ingest, reading them for trajectories."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain, islice
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from datahub.catalog import rows as catalog_rows
from datahub.db import bulk
from datahub.db.models import (
    Actor,
    ActorTarget,
    CarbonActivityFact,
    CarbonClimateFact,
    CarbonEmissionFact,
    CarbonEmissionFactor,
    CarbonLandFact,
    CarbonRollupEdge,
    CarbonSequestrationFactor,
    Dataset,
    DatasetVersion,
    Organization,
    PlanVersion,
    ReferenceDesignation,
    Target,
    Territory,
    TerritoryParent,
)

FACT_TABLES: tuple[type[Any], ...] = (
    CarbonEmissionFact,
    CarbonActivityFact,
    CarbonLandFact,
    CarbonClimateFact,
    CarbonEmissionFactor,
    CarbonSequestrationFactor,
    CarbonRollupEdge,
)
_BATCH = 5000
#: An absent optional column (ghg, actor), typed so PostgreSQL can plan the query.
_NULL_TEXT = cast(null(), String(64))


# --- ingest -------------------------------------------------------------------------------------


def stream_rows(session: Session, version_id: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """A version's rows, read through the catalogue (rows live in per-version tables)."""
    version = session.get(DatasetVersion, version_id)
    assert version is not None
    yield from catalog_rows.iter_version(session, version)


def grouped_rows(
    session: Session, version_id: int, keys: list[str], measure: str
) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    """A version's rows summed by ``keys`` in the database (see catalog ``rows.grouped``)."""
    version = session.get(DatasetVersion, version_id)
    assert version is not None
    return catalog_rows.grouped(session, version, keys, measure)


def emission_unit_pairs(session: Session, version_id: int) -> list[tuple[Any, Any, int]]:
    """Distinct ``(unit, ghg)`` of a version's emission rows with a value, and a row of each."""
    version = session.get(DatasetVersion, version_id)
    assert version is not None
    _table, cols = catalog_rows.sql_columns(version)
    ghg = cols.get("ghg", _NULL_TEXT)
    query = (
        select(cols["unit"], ghg, func.min(cols["_row"]))
        .where(cols["value"].is_not(None))
        .group_by(cols["unit"], ghg)
        .order_by(func.min(cols["_row"]))
    )
    return [(unit, gas, int(row)) for unit, gas, row in session.execute(query)]


#: Memory PostgreSQL may give a sort or hash of the indexing statements (the default 4 MB sends
#: the GROUP BY of a national file to disk, in many passes).
AGGREGATE_WORK_MEM = "256MB"


def roomy_aggregates(session: Session) -> None:
    """Let this transaction's aggregates hash in memory (PostgreSQL; SQLite has no such limit)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{AGGREGATE_WORK_MEM}'"))


def insert_emission_facts(
    session: Session, version_id: int, conversions: Mapping[tuple[Any, Any], tuple[str, str, float]]
) -> tuple[int, int]:
    """Sum a version's emission rows into own facts in one ``INSERT ... SELECT``.

    ``conversions`` maps each ``(unit, ghg)`` to ``(ghg label, gas, multiplier to tonnes)``.
    A row naming an actor counts at the actor's location. Returns (facts, rows without value).
    """
    version = session.get(DatasetVersion, version_id)
    assert version is not None
    roomy_aggregates(session)
    table, cols = catalog_rows.sql_columns(version)
    ghg = cols.get("ghg", _NULL_TEXT)
    actor_col = cols.get("actor", _NULL_TEXT)

    def match(unit: Any, gas: Any) -> Any:
        return and_(cols["unit"] == unit, ghg.is_(None) if gas is None else ghg == gas)

    def pick(index: int) -> Any:
        return case(*((match(u, g), literal(c[index])) for (u, g), c in conversions.items()))

    home = func.coalesce(Actor.territory_code, cols["territory"])
    label, gas_name, actor = pick(0), pick(1), func.coalesce(actor_col, "")
    query = (
        select(
            home,
            literal(version_id),
            cols["sector"],
            cols["year"],
            label,
            gas_name,
            actor,
            true(),
            func.sum(cols["value"] * pick(2)),
        )
        .select_from(table.outerjoin(Actor, Actor.id == actor_col))
        .where(cols["value"].is_not(None))
        .group_by(home, cols["sector"], cols["year"], label, gas_name, actor)
    )
    columns = ["scope", "version_id", "sector", "year", "ghg", "gas", "actor", "own", "value"]
    result = session.execute(insert(CarbonEmissionFact).from_select(columns, query))
    facts = result.rowcount  # type: ignore[attr-defined]
    missing = session.scalar(select(func.count()).select_from(table).where(cols["value"].is_(None)))
    return int(facts or 0), int(missing or 0)


def own_scopes(session: Session, table: type[Any], version_id: int) -> set[str]:
    return set(
        session.scalars(
            select(table.scope)
            .where(table.version_id == version_id, table.own == true())
            .distinct()
        )
    )


def parent_edges(session: Session) -> list[tuple[str, str]]:
    """Every (child, parent) edge of the territory hierarchy."""
    rows = session.execute(select(TerritoryParent.child_code, TerritoryParent.parent_code))
    return [(child, parent) for child, parent in rows]


def known_territories(session: Session, codes: Iterable[str]) -> set[str]:
    wanted = list(set(codes))
    found: set[str] = set()
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        found.update(session.scalars(select(Territory.code).where(Territory.code.in_(chunk))))
    return found


def actor_locations(session: Session, actor_ids: Iterable[str]) -> dict[str, str]:
    wanted = list(set(actor_ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        rows = session.execute(select(Actor.id, Actor.territory_code).where(Actor.id.in_(chunk)))
        found.update((actor_id, code) for actor_id, code in rows)
    return found


def delete_facts(session: Session, version_ids: Sequence[int]) -> None:
    if not version_ids:
        return
    for table in FACT_TABLES:
        session.execute(delete(table).where(table.version_id.in_(version_ids)))


def delete_orphans(session: Session, keep: Sequence[int]) -> None:
    """Delete the facts of every version not in ``keep``."""
    for table in FACT_TABLES:
        statement = delete(table)
        if keep:
            statement = statement.where(table.version_id.not_in(keep))
        session.execute(statement)


def other_versions(session: Session, dataset_id: str, keep: int) -> list[int]:
    return list(
        session.scalars(
            select(DatasetVersion.id).where(
                DatasetVersion.dataset_id == dataset_id, DatasetVersion.id != keep
            )
        )
    )


def bulk_insert(session: Session, table: type[Any], rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert dict rows (all with the same keys); see :func:`bulk_insert_rows`."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    names = list(first)
    values = ([row[name] for name in names] for row in chain([first], iterator))
    return bulk_insert_rows(session, table, names, values)


def bulk_insert_rows(
    session: Session, table: type[Any], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert rows given as values in the order of ``columns``, in batches of :data:`_BATCH` (a
    COPY each on PostgreSQL, multi-row INSERTs on SQLite: the ORM's per-row parameter handling
    cost more than the insert); returns the count.

    Each batch is gathered before it is written: ``rows`` may be reading the same connection.
    """
    write = _copy if session.get_bind().dialect.name == "postgresql" else _insert_many
    names = list(columns)
    count = 0
    iterator = iter(rows)
    while batch := list(islice(iterator, _BATCH)):
        write(session, table.__table__, names, batch)
        count += len(batch)
    return count


def insert_table(session: Session, table: type[Any], data: Any) -> int:
    """Insert the rows of an Arrow table whose column names are the table's; returns the count.
    On PostgreSQL one binary COPY, each column cast to its SQL type's encoding first."""
    if data.num_rows == 0:
        return 0
    names = list(data.column_names)
    if session.get_bind().dialect.name != "postgresql":
        values = zip(*(data[name].to_pylist() for name in names), strict=True)
        return bulk_insert_rows(session, table, names, values)
    schema = bulk.copy_schema(table.__table__, names)
    quote = session.get_bind().dialect.identifier_preparer.quote
    dbapi = session.connection().connection.driver_connection
    with bulk.postgres_copy(
        dbapi, quote(table.__tablename__), [quote(n) for n in names], schema
    ) as send:
        for batch in data.cast(schema).to_batches():
            send(batch)
    return int(data.num_rows)


def _copy(session: Session, table: Table, names: list[str], batch: list[Sequence[Any]]) -> None:
    quote = session.get_bind().dialect.identifier_preparer.quote
    dbapi = session.connection().connection.driver_connection
    statement = f"COPY {quote(table.name)} ({', '.join(map(quote, names))}) FROM STDIN"
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in batch:
            copy.write_row(row)


def _insert_many(
    session: Session, table: Table, names: list[str], batch: list[Sequence[Any]]
) -> None:
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    grid = bulk.object_grid(batch, len(names))
    for j, name in enumerate(names):
        to_db = table.c[name].type.bind_processor(dialect)
        if to_db is not None:
            grid[:, j] = [None if v is None else to_db(v) for v in grid[:, j]]
    bulk.sqlite_insert(
        session.connection().connection.driver_connection,
        quote(table.name),
        [quote(name) for name in names],
        grid,
    )


def roll_up(session: Session, table: type[Any], version_id: int, keys: Sequence[str]) -> None:
    """Add, for every fact of the version at its own territory, one fact per ancestor.

    ``keys`` are the grouping columns besides scope and version; the measure columns are summed
    (``first_row`` takes the minimum).
    """
    roomy_aggregates(session)
    edge = CarbonRollupEdge
    measures: dict[str, Any] = {}
    for name in ("value", "quantity", "area_ha"):
        if hasattr(table, name):
            measures[name] = func.sum(getattr(table, name))
    if hasattr(table, "first_row"):
        measures["first_row"] = func.min(table.first_row)
    group = [getattr(table, k) for k in keys]
    query = (
        select(
            edge.ancestor,
            table.version_id,
            *group,
            literal(False).label("own"),
            *measures.values(),
        )
        .join(edge, (edge.version_id == table.version_id) & (edge.territory == table.scope))
        .where(table.version_id == version_id, table.own == true())
        .group_by(edge.ancestor, table.version_id, *group)
    )
    columns = ["scope", "version_id", *keys, "own", *measures]
    session.execute(insert(table).from_select(columns, query))


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrentVersion:
    dataset: Dataset
    version_id: int
    number: int
    #: What identifies the version's facts: content hash, creation time, indexing stamp.
    stamp: tuple[object, ...] = ()


def current_versions(
    session: Session, kinds: Sequence[str], approach: str | None = None
) -> list[CurrentVersion]:
    """The current version of every dataset of these kinds (and approach, for emissions)."""
    query = (
        select(
            Dataset,
            DatasetVersion.id,
            DatasetVersion.number,
            DatasetVersion.sha256,
            DatasetVersion.created_at,
            DatasetVersion.report,
        )
        .join(
            DatasetVersion,
            (DatasetVersion.dataset_id == Dataset.id)
            & (DatasetVersion.number == Dataset.current_version),
        )
        .where(Dataset.kind.in_(kinds))
        .order_by(Dataset.updated_at.desc(), Dataset.id)
    )
    rows = session.execute(query).all()
    return [
        CurrentVersion(
            dataset,
            version_id,
            number,
            (sha256, str(created_at), str((report or {}).get("carbon", {}).get("indexed_at"))),
        )
        for dataset, version_id, number, sha256, created_at, report in rows
        if approach is None
        or dataset.kind not in ("emissions", "activity")
        or (dataset.approach or "territorial") == approach
    ]


def _in_scope(
    f: Any,
    scope: str | None,
    actor: str | None,
    actors_only: bool | None,
    sector: str | None,
) -> list[ColumnElement[bool]]:
    """Facts of a territory (rolled up), or an actor's own; inventory or actor rows; a sector."""
    conditions: list[ColumnElement[bool]] = []
    if scope is not None:
        conditions.append(f.scope == scope)
    if actor is not None:
        # actor <> '' lets the planner use the partial index of actors' facts.
        conditions += [f.actor == actor, f.actor != "", f.own == true()]
    if actors_only is not None:
        conditions.append(f.actor != "" if actors_only else f.actor == "")
    if sector is not None:
        conditions.append(f.sector == sector)
    return conditions


def _emission_rows(
    session: Session,
    version_ids: Sequence[int],
    conditions: Sequence[ColumnElement[bool]],
    *extra: Any,
    by_actor: bool = True,
) -> list[tuple[Any, ...]]:
    """Emission facts of the versions meeting ``conditions``, summed by the cell columns (and
    ``extra`` ones, which come first in each row); not ``by_actor``: over actors (as "")."""
    f = CarbonEmissionFact
    group = [*extra, f.version_id, f.year, f.sector, f.ghg, f.gas]
    if by_actor:
        group.append(f.actor)
    actor: tuple[Any, ...] = () if by_actor else (literal_column("''"),)
    query = (
        select(*group, *actor, func.sum(f.value))
        .where(f.version_id.in_(version_ids), *conditions)
        .group_by(*group)
    )
    return [tuple(row) for row in session.execute(query)]


def _emission_row(row: Sequence[Any]) -> tuple[int, int, str, str, str, str, float]:
    v, y, s, g, gas, a, total = row
    return (int(v), int(y), s, g, gas, a, float(total))


def emission_cells(
    session: Session,
    version_ids: Sequence[int],
    *,
    scope: str | None = None,
    actor: str | None = None,
    actors_only: bool | None = None,
    sector: str | None = None,
    by_actor: bool = True,
) -> list[tuple[int, int, str, str, str, str, float]]:
    """(version_id, year, sector, ghg, gas, actor, tonnes) summed over ``own``.

    ``scope`` reads a territory's rolled-up facts; ``actor`` an actor's own facts.
    ``actors_only`` True keeps rows naming an actor, False rows naming none. Not ``by_actor``:
    summed over actors too (actor ""), so a large scope reads a few rows, not one per actor.
    """
    if not version_ids:
        return []
    conditions = _in_scope(CarbonEmissionFact, scope, actor, actors_only, sector)
    rows = _emission_rows(session, version_ids, conditions, by_actor=by_actor)
    return [_emission_row(row) for row in rows]


def own_emission_facts(
    session: Session, version_ids: Sequence[int], *, actors_only: bool
) -> list[tuple[str, tuple[int, int, str, str, str, str, float]]]:
    """(territory, emission cell row) of every fact counted at its own territory, before the
    roll-up: with :func:`rollup_ancestors`, every territory's cells of these versions."""
    if not version_ids:
        return []
    f = CarbonEmissionFact
    conditions = [f.own == true(), *_in_scope(f, None, None, actors_only, None)]
    rows = _emission_rows(session, version_ids, conditions, f.scope)
    return [(row[0], _emission_row(row[1:])) for row in rows]


def rollup_ancestors(session: Session, version_ids: Sequence[int]) -> dict[str, set[str]]:
    """Every territory the own facts of these versions were rolled up into, per territory."""
    found: dict[str, set[str]] = {}
    if not version_ids:
        return found
    e = CarbonRollupEdge
    query = select(e.territory, e.ancestor).where(e.version_id.in_(version_ids)).distinct()
    for territory, ancestor in session.execute(query):
        found.setdefault(territory, set()).add(ancestor)
    return found


def _activity_rows(
    session: Session,
    version_ids: Sequence[int],
    conditions: Sequence[ColumnElement[bool]],
    *extra: Any,
    by_actor: bool = True,
) -> list[tuple[Any, ...]]:
    f = CarbonActivityFact
    head, tail = [*extra, f.version_id, f.year, f.sector], [f.factor, f.unit]
    actor: Any = f.actor if by_actor else literal_column("''")
    group = [*head, *([f.actor] if by_actor else []), *tail]
    query = (
        select(*head, actor, *tail, func.sum(f.quantity), func.min(f.first_row))
        .where(f.version_id.in_(version_ids), *conditions)
        .group_by(*group)
    )
    return [tuple(row) for row in session.execute(query)]


def _activity_row(row: Sequence[Any]) -> tuple[int, int, str, str, str, str, float, int]:
    v, y, s, a, fac, u, q, r = row
    return (int(v), int(y), s, a, fac, u, float(q), int(r))


def activity_cells(
    session: Session,
    version_ids: Sequence[int],
    *,
    scope: str | None = None,
    actor: str | None = None,
    actors_only: bool | None = None,
    sector: str | None = None,
    by_actor: bool = True,
) -> list[tuple[int, int, str, str, str, str, float, int]]:
    """(version_id, year, sector, actor, factor, unit, quantity, first_row); ``by_actor`` as
    :func:`emission_cells`."""
    if not version_ids:
        return []
    conditions = _in_scope(CarbonActivityFact, scope, actor, actors_only, sector)
    rows = _activity_rows(session, version_ids, conditions, by_actor=by_actor)
    return [_activity_row(row) for row in rows]


def own_activity_facts(
    session: Session, version_ids: Sequence[int], *, actors_only: bool
) -> list[tuple[str, tuple[int, int, str, str, str, str, float, int]]]:
    """(territory, activity cell row) of every fact counted at its own territory."""
    if not version_ids:
        return []
    f = CarbonActivityFact
    conditions = [f.own == true(), *_in_scope(f, None, None, actors_only, None)]
    rows = _activity_rows(session, version_ids, conditions, f.scope)
    return [(row[0], _activity_row(row[1:])) for row in rows]


@dataclass(frozen=True)
class FactorRow:
    version_id: int
    factor_id: str
    label: str
    unit: str
    value: float
    valid_from: date | None
    valid_to: date | None


def emission_factors(
    session: Session, version_ids: Sequence[int], factor_ids: Iterable[str]
) -> list[FactorRow]:
    wanted = list(set(factor_ids))
    if not version_ids or not wanted:
        return []
    f = CarbonEmissionFactor
    out: list[FactorRow] = []
    for start in range(0, len(wanted), 900):
        query = select(
            f.version_id, f.factor_id, f.label, f.unit, f.value, f.valid_from, f.valid_to
        ).where(f.version_id.in_(version_ids), f.factor_id.in_(wanted[start : start + 900]))
        out.extend(FactorRow(*row) for row in session.execute(query))
    return out


def land_areas(
    session: Session, version_ids: Sequence[int], scopes: Sequence[str]
) -> list[tuple[int, str, int, str, str, float]]:
    """(version_id, scope, year, kind, key, hectares) summed over ``own``."""
    if not version_ids or not scopes:
        return []
    f = CarbonLandFact
    out: list[tuple[int, str, int, str, str, float]] = []
    for start in range(0, len(scopes), 900):
        query = (
            select(f.version_id, f.scope, f.year, f.kind, f.key, func.sum(f.area_ha))
            .where(f.version_id.in_(version_ids), f.scope.in_(scopes[start : start + 900]))
            .group_by(f.version_id, f.scope, f.year, f.kind, f.key)
        )
        out.extend(
            (int(v), s, int(y), k, key, float(a)) for v, s, y, k, key, a in session.execute(query)
        )
    return out


def sequestration_factors(
    session: Session, version_ids: Sequence[int]
) -> list[tuple[int, int, str, str, str | None, float]]:
    """(version_id, row_number, kind, key, territory, value) of the given versions."""
    if not version_ids:
        return []
    f = CarbonSequestrationFactor
    query = select(f.version_id, f.row_number, f.kind, f.key, f.territory, f.value).where(
        f.version_id.in_(version_ids)
    )
    return [(int(v), int(r), k, key, t, float(x)) for v, r, k, key, t, x in session.execute(query)]


def hdd_by_year(
    session: Session, version_ids: Sequence[int], territories: Sequence[str]
) -> list[tuple[int, str, int, float]]:
    """(version_id, territory, year, hdd) for these territories."""
    if not version_ids or not territories:
        return []
    f = CarbonClimateFact
    query = select(f.version_id, f.territory, f.year, f.hdd).where(
        f.version_id.in_(version_ids), f.territory.in_(territories)
    )
    return [(int(v), t, int(y), float(h)) for v, t, y, h in session.execute(query)]


# --- targets ------------------------------------------------------------------------------------


def get_target(session: Session, code: str) -> Target | None:
    return session.get(Target, code)


_Target = TypeVar("_Target", Target, ActorTarget)


def save_target(session: Session, target: _Target, fields: Mapping[str, object]) -> _Target:
    """Write ``fields`` into a territory's or an actor's target (added when new) and read it
    back, with its update time."""
    if target not in session:
        session.add(target)
    for name, value in fields.items():
        setattr(target, name, value)
    session.flush()
    session.refresh(target)
    return target


# --- action plans --------------------------------------------------------------------------------


def plan_version(session: Session, code: str, number: int | None) -> PlanVersion | None:
    """A version of the territory's plan, or its latest one."""
    query = select(PlanVersion).where(PlanVersion.territory_code == code)
    if number is not None:
        query = query.where(PlanVersion.number == number)
    return session.scalars(query.order_by(PlanVersion.number.desc()).limit(1)).first()


def add_plan_version(session: Session, version: PlanVersion) -> None:
    session.add(version)
    session.flush()


def organization_with_siren(session: Session, siren: str) -> str | None:
    return session.scalars(select(Organization.id).where(Organization.siren == siren)).first()


def get_actor_target(session: Session, actor_id: str) -> ActorTarget | None:
    return session.get(ActorTarget, actor_id)


def versions_by_id(session: Session, version_ids: Sequence[int]) -> list[DatasetVersion]:
    if not version_ids:
        return []
    query = select(DatasetVersion).where(DatasetVersion.id.in_(version_ids))
    return list(session.scalars(query.order_by(DatasetVersion.id)))


# --- reference designations (contract §5b) -------------------------------------------------------


def designations(session: Session) -> dict[str, frozenset[str]]:
    """Per reference kind, the datasets an admin designated as the instance's reference."""
    found: dict[str, set[str]] = {}
    for kind, dataset_id in session.execute(
        select(ReferenceDesignation.kind, ReferenceDesignation.dataset_id)
    ):
        found.setdefault(kind, set()).add(dataset_id)
    return {kind: frozenset(ids) for kind, ids in found.items()}


def set_designations(session: Session, kind: str, dataset_ids: Sequence[str]) -> None:
    session.execute(delete(ReferenceDesignation).where(ReferenceDesignation.kind == kind))
    session.add_all(ReferenceDesignation(kind=kind, dataset_id=d) for d in dataset_ids)
    session.flush()


def dataset_kinds(session: Session, dataset_ids: Sequence[str]) -> dict[str, str]:
    rows = session.execute(select(Dataset.id, Dataset.kind).where(Dataset.id.in_(dataset_ids)))
    return {row.id: row.kind for row in rows}
