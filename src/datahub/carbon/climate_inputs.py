"""Climate correction, for the inputs stage of the read path: the heating degree days that may
apply to each record's producer, read along the territory's chain; the scaling itself is
:func:`datahub.carbon.trajectory.climate_correct`'s."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from datahub.carbon import repository
from datahub.carbon.cells import Record, climate_corrected
from datahub.carbon.sectors import HEATING_SENSITIVE_SECTORS
from datahub.carbon.sources import Reference, Source
from datahub.carbon.trajectory import climate_correct, reference_hdd
from datahub.errors import FieldError, ValidationFailed
from datahub.settings import Settings


def heating_shares(settings: Settings) -> dict[str, float]:
    return {
        "residential": settings.heating_share_residential,
        "tertiary": settings.heating_share_tertiary,
    }


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


def _factors(
    session: Session,
    settings: Settings,
    sources: Sequence[Source],
    chain: Sequence[str],
    records: Sequence[Record],
    used: set[int],
) -> dict[tuple[int, str], float]:
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
    return climate_correct(needed, hdd, hdd_ref, heating_shares(settings))


def corrected(
    session: Session,
    settings: Settings,
    climate: Reference,
    chain: Sequence[str],
    records: Sequence[Record],
    by_version: Mapping[int, Source],
    used: set[int],
) -> list[Record]:
    """Records corrected with the HDD that may apply to each record's producer."""
    groups: dict[str | None, list[Record]] = defaultdict(list)
    for record in records:
        groups[by_version[record.version_id].producer].append(record)
    factors: dict[object, dict[tuple[int, str], float]] = {
        producer: _factors(session, settings, climate.to(producer), chain, group, used)
        for producer, group in groups.items()
    }
    return climate_corrected(records, lambda r: by_version[r.version_id].producer, factors)
