"""Activity quantities × their emission factor, for the inputs stage of the read path.

The factor of a row is the first one valid in its year among the factors that may apply to the
row's producer (:func:`datahub.carbon.sources.applicable`, in that order), unit-checked: a
mismatch or a missing factor is a 422 naming the row, as the caller may hear it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from datahub.carbon import repository
from datahub.carbon.cells import Record
from datahub.carbon.indexing import tco2e_per_unit
from datahub.carbon.sources import Source, applicable
from datahub.errors import DatahubError, FieldError, ValidationFailed

ActivityRow = tuple[int, int, str, str, str, str, float, int]
_Multiplier = tuple[float, int | None]


def reraise_with_dataset(exc: DatahubError, source: Source) -> DatahubError:
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


def multiplier(
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


class _Factors:
    """The candidate factors of the rows, and each producer's order of preference."""

    def __init__(
        self,
        candidates: Mapping[str, list[repository.FactorRow]],
        factor_sources: Sequence[Source],
        designated: frozenset[str],
    ) -> None:
        self._candidates = candidates
        self._sources = factor_sources
        self._designated = designated
        self._orders: dict[str | None, dict[int, int]] = {}

    def options(self, factor_id: str, producer: str | None) -> list[repository.FactorRow]:
        order = self._orders.get(producer)
        if order is None:
            allowed = applicable(self._sources, producer, self._designated)
            order = self._orders[producer] = {s.version_id: i for i, s in enumerate(allowed)}
        return sorted(
            (o for o in self._candidates.get(factor_id, ()) if o.version_id in order),
            key=lambda option: order[option.version_id],
        )


def activity_records(
    session: Session,
    rows: Sequence[ActivityRow],
    factor_sources: Sequence[Source],
    by_version: Mapping[int, Source],
    used: set[int],
    designated: frozenset[str],
    *,
    strict: bool = True,
) -> list[Record]:
    """Quantities × the factor valid in their year (see the module); the factor versions used
    are added to ``used``.

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
    factors = _Factors(candidates, factor_sources, designated)
    multipliers: dict[tuple[int, str, str, int], _Multiplier] = {}
    out = []
    for version_id, year, sector, actor, factor_id, unit, quantity, first_row in rows:
        key = (version_id, factor_id, unit, year)
        known = multipliers.get(key)
        if known is None:
            source = by_version[version_id]
            options = factors.options(factor_id, source.producer)
            try:
                known = multiplier(factor_id, options, unit, year, first_row)
            except DatahubError as exc:
                if strict:
                    raise reraise_with_dataset(exc, source) from None
                known = (0.0, None)
            multipliers[key] = known
        if known[1] is not None:
            used.add(known[1])
        out.append(Record(version_id, year, sector, "CO2e", actor, quantity * known[0]))
    return out
