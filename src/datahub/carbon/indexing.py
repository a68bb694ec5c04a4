"""Indexing: turn a stored version of a carbon kind into pre-aggregated facts (at ingest).

:func:`index_version` is the catalogue's version hook. It runs in the upload's transaction, so a
row that cannot be converted (unknown unit, a gas mass whose ``ghg`` contradicts it, an activity
unit that does not match its factor's) aborts the upload with a 422 naming the row.

Each figure is summed at its own territory (``own``; an actor's rows at the actor's location when
the actor is known) and then rolled up, in SQL, into every territory containing it, following
the hierarchy **as it is now**. A later change of the hierarchy (a commune joining another EPCI)
needs :func:`reindex` (``datahub carbon reindex``). Only the current version of a dataset keeps
facts; the facts of its older versions are dropped when a new one is indexed.

Emissions are summed while the upload streams by (:mod:`~datahub.carbon.emission_sums`); other
kinds, and emission files with too many distinct keys to hold, are read back once stored.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from datahub.carbon import reference_data, repository
from datahub.carbon.emission_sums import EmissionSums, emission_facts
from datahub.carbon.sectors import LAND_USES
from datahub.carbon.sequestration import (
    CHANGE_UNIT,
    FLOW_UNIT,
    FactorTable,
    SequestrationFactor,
    change_key,
)
from datahub.carbon.units import (
    DEFAULT_PCS_PCI_RATIOS,
    activity_emissions_tco2e,
    convert,
    fuel_from_label,
    parse_ghg,
    parse_unit,
    ureg,
)
from datahub.db.models import (
    CarbonActivityFact,
    CarbonClimateFact,
    CarbonEmissionFact,
    CarbonEmissionFactor,
    CarbonLandFact,
    CarbonRollupEdge,
    CarbonSequestrationFactor,
    Dataset,
    DatasetVersion,
)
from datahub.db.models._common import utcnow
from datahub.errors import FieldError, UnitMismatch, ValidationFailed
from datahub.territories.codes import level_of, rank

Rows = Iterable[tuple[int, Mapping[str, Any]]]
INDEXED_KINDS: Final = (
    "emission_factors",
    "sequestration_factors",
    "climate",
    "land_use",
    "land_use_change",
    "emissions",
    "activity",
)
_MAX_LISTED = 20


def _invalid(row: int | None, name: str, message: str) -> ValidationFailed:
    where = f"row {row}: " if row is not None else ""
    return ValidationFailed(detail=where + message, errors=[FieldError(row, name, message)])


# --- hierarchy ----------------------------------------------------------------------------------


@dataclass
class Hierarchy:
    """The territory hierarchy, loaded once per indexing run."""

    parents: dict[str, set[str]]
    _memo: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> Hierarchy:
        parents: dict[str, set[str]] = defaultdict(set)
        for child, parent in repository.parent_edges(session):
            parents[child].add(parent)
        return cls(dict(parents))

    def ancestors(self, code: str) -> frozenset[str]:
        found = self._memo.get(code)
        if found is None:
            seen: set[str] = set()
            stack = list(self.parents.get(code, ()))
            while stack:
                parent = stack.pop()
                if parent not in seen:
                    seen.add(parent)
                    stack.extend(self.parents.get(parent, ()))
            found = self._memo[code] = frozenset(seen)
        return found


def most_specific_first(codes: Iterable[str]) -> list[str]:
    """Territory codes from the smallest level (commune) to the largest (country)."""

    def order(code: str) -> tuple[int, str]:
        level = level_of(code)
        return (rank(level) if level is not None else -1, code)

    return sorted(codes, key=order)


# --- conversions --------------------------------------------------------------------------------

_CO2E_DIM: Final = ureg.Quantity(1, "tCO2e").dimensionality
_MASS_DIM: Final = ureg.Quantity(1, "t").dimensionality
_CH4_DIM: Final = ureg.Quantity(1, "tCH4").dimensionality
_N2O_DIM: Final = ureg.Quantity(1, "tN2O").dimensionality


@cache
def gas_mass(unit: str, ghg: str | None) -> tuple[str, str, float]:
    """``(ghg label, gas, multiplier)``: ``value × multiplier`` is tonnes of ``gas``.

    ``gas`` is ``CO2e`` when the value is already a CO2e (or CO2) mass; otherwise a gas whose
    GWP-100 is applied at query time, so the GWP set can be chosen per request. Mirrors
    :func:`datahub.carbon.units.to_tco2e` (tested against it). Raises without a row number;
    :func:`_gas_mass_at` adds it.
    """
    label = parse_ghg(ghg)
    dims = ureg.Quantity(1, parse_unit(unit)).dimensionality
    if dims == _CO2E_DIM:
        return label, "CO2e", convert(1.0, unit, "tCO2e")
    if dims == _MASS_DIM:
        gas = "CO2e" if label in ("CO2e", "CO2") else label
        return label, gas, convert(1.0, unit, "t")
    for unit_gas, gas_dims, tonne in (("CH4", _CH4_DIM, "tCH4"), ("N2O", _N2O_DIM, "tN2O")):
        if dims == gas_dims:
            resolved = unit_gas if label == "CO2e" else label
            if not resolved.startswith(unit_gas):
                message = f"unit {unit!r} is a mass of {unit_gas} but ghg is {ghg!r}"
                raise UnitMismatch(detail=message, errors=[FieldError(None, "ghg", message)])
            return label, resolved, convert(1.0, unit, tonne)
    message = f"{unit!r} is not a mass of CO2e or of a greenhouse gas (e.g. tCO2e, tCH4)"
    raise UnitMismatch(detail=message, errors=[FieldError(None, "unit", message)])


def _gas_mass_at(unit: str, ghg: str | None, row: int) -> tuple[str, str, float]:
    try:
        return gas_mass(unit, ghg)
    except (UnitMismatch, ValidationFailed) as exc:
        errors = [FieldError(row, e.field, e.message) for e in exc.errors]
        message = errors[0].message if errors else exc.detail
        raise type(exc)(detail=f"row {row}: {message}", errors=errors) from None


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value).strip()


def _number(data: Mapping[str, Any], name: str, row: int) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _invalid(row, name, f"{value!r} is not a number") from None
    return number if math.isfinite(number) else None


def _year(data: Mapping[str, Any], row: int) -> int:
    value = data.get("year")
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _invalid(row, "year", f"{value!r} is not a year") from None


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- facts at their own territory, then rolled up -----------------------------------------------


@dataclass
class Report:
    """What indexing found, stored in the version's report under ``carbon``."""

    facts: int = 0
    unknown_territories: set[str] = field(default_factory=set)
    unknown_factors: set[str] = field(default_factory=set)
    skipped_rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"facts": self.facts}
        if self.unknown_territories:
            out["unknown_territories"] = sorted(self.unknown_territories)[:_MAX_LISTED]
        if self.unknown_factors:
            out["unknown_factors"] = sorted(self.unknown_factors)[:_MAX_LISTED]
        if self.skipped_rows:
            out["skipped_rows"] = self.skipped_rows
        return out


def _write_rolled_up(
    session: Session,
    table: type[Any],
    version_id: int,
    keys: tuple[str, ...],
    groups: Mapping[tuple[Any, ...], Any],
    measure: Callable[[Any], dict[str, Any]],
    hierarchy: Hierarchy,
    report: Report,
) -> None:
    """Insert ``groups`` (keyed by ``(territory, *keys)``) as own facts, then roll them up."""
    _write_edges(session, version_id, {key[0] for key in groups}, hierarchy, report)
    measures = list(measure(next(iter(groups.values())))) if groups else []
    columns = ["scope", "version_id", *keys, "own", *measures]
    own = (
        (key[0], version_id, *key[1:], True, *measure(value).values())
        for key, value in groups.items()
    )
    report.facts += repository.bulk_insert_rows(session, table, columns, own)
    repository.roll_up(session, table, version_id, keys)


def _write_edges(
    session: Session, version_id: int, territories: set[str], hierarchy: Hierarchy, report: Report
) -> None:
    """Record the hierarchy the version's territories are rolled up with."""
    known = repository.known_territories(session, territories)
    report.unknown_territories |= territories - known
    edges = (
        {"version_id": version_id, "territory": code, "ancestor": ancestor}
        for code in sorted(known)
        for ancestor in sorted(hierarchy.ancestors(code))
    )
    repository.bulk_insert(session, CarbonRollupEdge, edges)


def index_emissions_in_database(
    session: Session, version_id: int, hierarchy: Hierarchy, report: Report
) -> None:
    """Index an emissions version set-based: units are checked once per distinct (unit, ghg),
    naming a row that carries the pair, then the database sums and rolls up the rows."""
    conversions = {
        (unit, ghg): _gas_mass_at(unit or "", ghg or "", row)
        for unit, ghg, row in repository.emission_unit_pairs(session, version_id)
    }
    if not conversions:
        return
    facts, missing = repository.insert_emission_facts(session, version_id, conversions)
    report.facts += facts
    report.skipped_rows += missing
    scopes = repository.own_scopes(session, CarbonEmissionFact, version_id)
    known = repository.known_territories(session, scopes)
    report.unknown_territories |= scopes - known
    edges = (
        {"version_id": version_id, "territory": code, "ancestor": ancestor}
        for code in sorted(known)
        for ancestor in sorted(hierarchy.ancestors(code))
    )
    repository.bulk_insert(session, CarbonRollupEdge, edges)
    repository.roll_up(
        session, CarbonEmissionFact, version_id, ("sector", "year", "ghg", "gas", "actor")
    )


def index_emission_sums(
    session: Session, version_id: int, sums: EmissionSums, hierarchy: Hierarchy, report: Report
) -> None:
    """Index an emissions version from the sums taken while its rows were stored: units are
    checked once per distinct (unit, ghg), naming the first row that carries the pair, then each
    sum counts at its territory (or its actor's location) and is rolled up."""
    by_first_row = sorted(sums.first_rows.items(), key=lambda item: item[1])
    conversions = {
        (unit, ghg): _gas_mass_at(unit or "", ghg or "", row) for (unit, ghg), row in by_first_row
    }
    if not conversions:
        return
    totals = sums.table()
    actors = set(pc.unique(totals["actor"]).drop_null().to_pylist()) - {""}
    located = repository.actor_locations(session, actors) if actors else {}
    facts = emission_facts(totals, conversions, located)
    report.skipped_rows += sums.missing
    _write_edges(session, version_id, set(pc.unique(facts["scope"]).to_pylist()), hierarchy, report)
    own = facts.append_column(
        "version_id", pa.repeat(pa.scalar(version_id, pa.int64()), facts.num_rows)
    ).append_column("own", pa.repeat(True, facts.num_rows))
    report.facts += repository.insert_table(session, CarbonEmissionFact, own)
    repository.roll_up(
        session, CarbonEmissionFact, version_id, ("sector", "year", "ghg", "gas", "actor")
    )


def tco2e_per_unit(unit: str, factor: repository.FactorRow, row: int) -> float:
    """tCO2e for one ``unit`` of activity with ``factor``; UnitMismatch (naming ``row``) when
    the units do not meet, PCS/PCI included."""
    return activity_emissions_tco2e(
        1.0,
        unit,
        factor.value,
        factor.unit,
        DEFAULT_PCS_PCI_RATIOS,
        fuel=fuel_from_label(factor.label),
        row=row,
    )


@dataclass(frozen=True)
class FactorScope:
    """Whose activity is indexed: its factors are its producer's or the designated reference
    (contract §5b). ``strict`` (at upload): a factor unknown in that scope is a 422."""

    producer: str | None
    strict: bool = False


def check_activity_units(
    session: Session,
    pairs: Mapping[tuple[str, str], int],
    report: Report,
    scope: FactorScope,
) -> None:
    """Check each (factor, unit) against the factors that may apply now; a mismatch (and, when
    ``scope.strict``, an unknown factor) is a 422 naming the row."""
    designated = repository.designations(session).get("emission_factors", frozenset())
    versions = [
        v.version_id
        for v in repository.current_versions(session, ["emission_factors"])
        if reference_data.may_apply(
            v.dataset.id, v.dataset.organization_id, scope.producer, designated
        )
    ]
    factors = repository.emission_factors(session, versions, {f for f, _ in pairs})
    by_id: dict[str, list[repository.FactorRow]] = defaultdict(list)
    for factor in factors:
        by_id[factor.factor_id].append(factor)
    for (factor_id, unit), row in sorted(pairs.items(), key=lambda item: item[1]):
        candidates = by_id.get(factor_id)
        if not candidates:
            if scope.strict:
                message = (
                    f"unknown emission factor {factor_id!r}: neither in your own emission_factors "
                    "datasets nor in the instance's reference (GET /reference/emission_factors)"
                )
                raise ValidationFailed(
                    detail=f"row {row}: {message}", errors=[FieldError(row, "factor", message)]
                )
            report.unknown_factors.add(factor_id)
            continue
        for factor in candidates:
            tco2e_per_unit(unit, factor, row)


def index_activity(
    session: Session,
    version_id: int,
    rows: Rows,
    hierarchy: Hierarchy,
    report: Report,
    scope: FactorScope,
) -> None:
    raw: list[tuple[str, str, int, str, str, str, float, int]] = []
    actors: set[str] = set()
    pairs: dict[tuple[str, str], int] = {}
    for row, data in rows:
        quantity = _number(data, "quantity", row)
        if quantity is None:
            report.skipped_rows += 1
            continue
        unit, factor = _text(data, "unit"), _text(data, "factor")
        if not factor:
            raise _invalid(row, "factor", "an activity row needs an emission factor id")
        parse_unit(unit, row=row)
        pairs.setdefault((factor, unit), row)
        actor = _text(data, "actor")
        if actor:
            actors.add(actor)
        territory, sector = _text(data, "territory"), _text(data, "sector")
        raw.append((territory, sector, _year(data, row), actor, factor, unit, quantity, row))
    check_activity_units(session, pairs, report, scope)
    located = repository.actor_locations(session, actors) if actors else {}
    groups: dict[tuple[str, str, int, str, str, str], list[float]] = {}
    for territory, sector, year, actor, factor, unit, quantity, row in raw:
        home = located.get(actor, territory) if actor else territory
        key = (home, sector, year, actor, factor, unit)
        cell = groups.get(key)
        if cell is None:
            groups[key] = [quantity, row]
        else:
            cell[0] += quantity
            cell[1] = min(cell[1], row)
    keys = ("sector", "year", "actor", "factor", "unit")
    _write_rolled_up(
        session,
        CarbonActivityFact,
        version_id,
        keys,
        groups,
        lambda v: {"quantity": v[0], "first_row": int(v[1])},
        hierarchy,
        report,
    )


def _land_use(data: Mapping[str, Any], name: str, row: int) -> str:
    value = _text(data, name)
    if value not in LAND_USES:
        raise _invalid(row, name, f"unknown land use {value!r}; one of {', '.join(LAND_USES)}")
    return value


def index_land(
    session: Session,
    version_id: int,
    rows: Rows,
    hierarchy: Hierarchy,
    report: Report,
    *,
    change: bool,
) -> None:
    groups: dict[tuple[str, int, str, str], float] = defaultdict(float)
    for row, data in rows:
        area = _number(data, "area_ha", row)
        if area is None:
            report.skipped_rows += 1
            continue
        if change:
            kind = "change"
            key = change_key(
                _land_use(data, "from_land_use", row), _land_use(data, "to_land_use", row)
            )
        else:
            kind, key = "flow", _land_use(data, "land_use", row)
        groups[(_text(data, "territory"), _year(data, row), kind, key)] += area
    _write_rolled_up(
        session,
        CarbonLandFact,
        version_id,
        ("year", "kind", "key"),
        groups,
        lambda v: {"area_ha": v},
        hierarchy,
        report,
    )


def index_sequestration_factors(
    session: Session, version_id: int, rows: Rows, report: Report
) -> None:
    factors = []
    for row, data in rows:
        value = _number(data, "value", row)
        if value is None:
            raise _invalid(row, "value", "a sequestration factor needs a value")
        factors.append(
            SequestrationFactor(
                value=value,
                unit=_text(data, "unit"),
                land_use=_text(data, "land_use") or None,
                from_land_use=_text(data, "from_land_use") or None,
                to_land_use=_text(data, "to_land_use") or None,
                territory=_text(data, "territory") or None,
                row=row,
            )
        )
    FactorTable(factors)  # validates: land uses, units, duplicates (422 naming the row)
    report.facts += repository.bulk_insert(
        session,
        CarbonSequestrationFactor,
        (
            {
                "version_id": version_id,
                "row_number": f.row,
                "kind": f.kind,
                "key": f.key,
                "territory": f.territory,
                "value": convert(
                    f.value, f.unit, FLOW_UNIT if f.kind == "flow" else CHANGE_UNIT, row=f.row
                ),
            }
            for f in factors
        ),
    )


def index_emission_factors(session: Session, version_id: int, rows: Rows, report: Report) -> None:
    def records() -> Iterator[dict[str, Any]]:
        for row, data in rows:
            value = _number(data, "value", row)
            factor_id = _text(data, "id")
            if value is None or not factor_id:
                report.skipped_rows += 1
                continue
            unit = _text(data, "unit")
            parse_unit(unit, row=row)
            try:
                valid_from, valid_to = _date(data.get("valid_from")), _date(data.get("valid_to"))
            except ValueError:
                raise _invalid(row, "valid_from", "dates are YYYY-MM-DD") from None
            yield {
                "version_id": version_id,
                "row_number": row,
                "factor_id": factor_id[:200],
                "label": _text(data, "label")[:500],
                "unit": unit[:64],
                "value": value,
                "valid_from": valid_from,
                "valid_to": valid_to,
            }

    report.facts += repository.bulk_insert(session, CarbonEmissionFactor, records())


def index_climate(session: Session, version_id: int, rows: Rows, report: Report) -> None:
    values: dict[tuple[str, int], list[float]] = defaultdict(list)
    for row, data in rows:
        hdd = _number(data, "hdd", row)
        territory = _text(data, "territory")
        if hdd is None or not territory:
            report.skipped_rows += 1  # station-only rows: no territory to attach them to
            continue
        values[(territory, _year(data, row))].append(hdd)
    report.facts += repository.bulk_insert(
        session,
        CarbonClimateFact,
        (
            {"version_id": version_id, "territory": t, "year": y, "hdd": sum(v) / len(v)}
            for (t, y), v in values.items()
        ),
    )


def index_rows(
    session: Session,
    kind: str,
    version_id: int,
    rows: Rows,
    hierarchy: Hierarchy | None = None,
    scope: FactorScope | None = None,
) -> Report:
    """Index ``rows`` (``(row_number, row)`` pairs) of a version of ``kind``."""
    report = Report()
    tree = hierarchy or Hierarchy.load(session)
    if kind == "activity":
        index_activity(session, version_id, rows, tree, report, scope or FactorScope(None))
    elif kind in ("land_use", "land_use_change"):
        index_land(session, version_id, rows, tree, report, change=kind == "land_use_change")
    elif kind == "sequestration_factors":
        index_sequestration_factors(session, version_id, rows, report)
    elif kind == "emission_factors":
        index_emission_factors(session, version_id, rows, report)
    elif kind == "climate":
        index_climate(session, version_id, rows, report)
    return report


#: Emissions and activity rows are summed in the database before indexing (linear in the
#: measure, so exact); the other kinds are small and read row by row.
GROUPED: Final = {
    "activity": (["territory", "sector", "year", "actor", "factor", "unit"], "quantity"),
}


def _index_version_rows(
    session: Session,
    kind: str,
    version_id: int,
    hierarchy: Hierarchy | None = None,
    scope: FactorScope | None = None,
) -> Report:
    if kind == "emissions":
        report = Report()
        index_emissions_in_database(
            session, version_id, hierarchy or Hierarchy.load(session), report
        )
        return report
    if kind not in GROUPED:
        return index_rows(
            session, kind, version_id, repository.stream_rows(session, version_id), hierarchy, scope
        )
    keys, measure = GROUPED[kind]
    groups, missing = repository.grouped_rows(session, version_id, keys, measure)
    report = index_rows(session, kind, version_id, groups, hierarchy, scope)
    report.skipped_rows += missing
    return report


@dataclass
class VersionIndexer:
    """Follows one upload of a carbon kind (see :func:`index_version`)."""

    session: Session
    dataset: Dataset
    sums: EmissionSums | None = None

    def add(self, batch: Any, first_row: int) -> None:
        if self.sums is not None:
            self.sums.add(batch, first_row)

    def finish(self, version: DatasetVersion) -> None:
        """Index the new current version and drop the facts of the older ones."""
        session = self.session
        repository.delete_facts(
            session, [*repository.other_versions(session, self.dataset.id, version.id)]
        )
        if self.sums is not None and self.sums.complete():
            report = Report()
            index_emission_sums(session, version.id, self.sums, Hierarchy.load(session), report)
        else:
            scope = FactorScope(self.dataset.organization_id, strict=True)
            report = _index_version_rows(session, self.dataset.kind, version.id, scope=scope)
        _stamp(version, report)
        session.flush()


def _stamp(version: DatasetVersion, report: Report) -> None:
    """Store the indexing report with the time of indexing: what memoised decisions over the
    version's facts are keyed on (a reindex rebuilds the facts, so it changes the key)."""
    carbon = {**report.as_dict(), "indexed_at": utcnow().isoformat()}
    version.report = {**(version.report or {}), "carbon": carbon}


def forget_versions(session: Session, version_ids: Sequence[int]) -> None:
    """The deletion hook: the facts of deleted versions go with them."""
    repository.delete_facts(session, version_ids)


def index_version(session: Session, dataset: Dataset) -> VersionIndexer | None:
    """The version hook: emissions are summed while their rows stream in, other kinds are read
    back once stored."""
    if dataset.kind not in INDEXED_KINDS:
        return None
    sums = EmissionSums() if dataset.kind == "emissions" else None
    return VersionIndexer(session, dataset, sums)


def reindex(session: Session) -> dict[str, int]:
    """Rebuild every fact from the current versions (after a hierarchy change, or an upgrade).

    Factors first, so activity units are checked against them. Returns facts per dataset.
    """
    versions = repository.current_versions(session, INDEXED_KINDS)
    repository.delete_facts(session, [v.version_id for v in versions])
    repository.delete_orphans(session, [v.version_id for v in versions])
    hierarchy = Hierarchy.load(session)
    done: dict[str, int] = {}
    for kind in INDEXED_KINDS:
        for current in versions:
            if current.dataset.kind != kind:
                continue
            scope = FactorScope(current.dataset.organization_id)
            report = _index_version_rows(session, kind, current.version_id, hierarchy, scope)
            version = session.get(DatasetVersion, current.version_id)
            if version is not None:
                _stamp(version, report)
            done[current.dataset.id] = report.facts
    return done
