"""Rules for territories, their hierarchy and actors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from datahub.db.models import Actor, Territory
from datahub.errors import Conflict, FieldError, NotFound, ValidationFailed
from datahub.territories import repository, spatial
from datahub.territories.codes import level_of, rank, suggest
from datahub.territories.schemas import ActorCreate, ActorRead, TerritoryCreate, TerritoryRead


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError(None, field, message)])


def get(session: Session, code: str) -> Territory:
    territory = repository.get(session, code)
    if territory is None:
        guess = suggest(code)
        raise NotFound(f"no territory {code!r}" + (f"; did you mean `{guess}`?" if guess else ""))
    return territory


def upsert(session: Session, data: TerritoryCreate, *, replace: bool = False) -> Territory:
    """Create a territory (``replace``: or update it, as connectors do)."""
    level = level_of(data.code)
    if level is None or level != data.level:
        raise _invalid("code", f"code {data.code!r} is not a valid {data.level} code")
    parents = data.parents
    missing = set(parents) - repository.existing_codes(session, parents)
    if missing:
        raise _invalid("parent", f"unknown parent territory: {', '.join(sorted(missing))}")
    for parent in parents:
        parent_level = level_of(parent)
        if parent_level is None or rank(parent_level) <= rank(level):
            raise _invalid("parent", f"{parent} cannot contain a {level}")
    geometry = spatial.from_geojson(data.geometry) if data.geometry is not None else None
    territory = repository.get(session, data.code)
    if territory is not None and not replace:
        raise Conflict(f"territory {data.code!r} already exists")
    if territory is None:
        territory = Territory(code=data.code, level=level, name=data.name)
        session.add(territory)
    territory.name = data.name
    territory.population = data.population
    if geometry is not None or replace:
        territory.geometry = geometry
        bounds = geometry.bounds if geometry is not None else (None, None, None, None)
        (
            territory.bbox_west,
            territory.bbox_south,
            territory.bbox_east,
            territory.bbox_north,
        ) = bounds
    session.flush()
    repository.set_parents(session, data.code, parents)
    session.flush()
    return territory


def read_many(session: Session, territories: Sequence[Territory]) -> list[TerritoryRead]:
    parents = repository.parents_of(session, [t.code for t in territories])
    return [
        TerritoryRead(
            code=t.code,
            name=t.name,
            level=t.level,
            parents=parents.get(t.code, []),
            population=t.population,
            has_geometry=t.geometry is not None,
            updated_at=t.updated_at,
        )
        for t in territories
    ]


def list_page(
    session: Session,
    *,
    level: str | None,
    parent: str | None,
    page: int,
    page_size: int,
    bbox: tuple[float, float, float, float] | None = None,
) -> tuple[list[TerritoryRead], int, list[Territory]]:
    """A page of territories by number (see :func:`list_window`)."""
    offset = (page - 1) * page_size
    return list_window(
        session, level=level, parent=parent, bbox=bbox, offset=offset, limit=page_size
    )


def list_window(
    session: Session,
    *,
    level: str | None,
    parent: str | None,
    bbox: tuple[float, float, float, float] | None,
    offset: int,
    limit: int,
) -> tuple[list[TerritoryRead], int, list[Territory]]:
    """Territories in code order from ``offset``; with ``bbox`` (west, south, east, north in
    WGS84), those whose bounding box meets it. Returns the reads, the total and the rows."""
    rows, total = repository.list_page(
        session, level=level, parent=parent, offset=offset, limit=limit, bbox=bbox
    )
    return read_many(session, rows), total, list(rows)


@dataclass(frozen=True)
class Footprint:
    """Where a territory is, for catalogues: its name, bounding box and outline (WGS84)."""

    code: str
    name: str
    bbox: tuple[float, float, float, float] | None
    outline: BaseGeometry | None


def footprints(session: Session, codes: Sequence[str]) -> dict[str, Footprint]:
    found = {}
    for territory in repository.many(session, codes):
        geometry = territory.geometry
        found[territory.code] = Footprint(
            territory.code,
            territory.name,
            tuple(geometry.bounds) if geometry is not None else None,
            spatial.simplified(geometry) if geometry is not None else None,
        )
    return found


def feature(read: TerritoryRead, territory: Territory) -> dict[str, Any]:
    """A GeoJSON Feature of a territory (properties = its metadata)."""
    return {
        "type": "Feature",
        "id": read.code,
        "geometry": spatial.to_geojson(territory.geometry),
        "properties": read.model_dump(mode="json", exclude={"has_geometry"}),
    }


def area_km2(territory: Territory) -> float | None:
    """The territory's area in km² (measured in Lambert-93), None without an outline."""
    geometry = territory.geometry
    return None if geometry is None else spatial.area_ha(geometry) / 100.0


def set_outline(session: Session, code: str, geojson: dict[str, Any]) -> None:
    """Give an existing territory an outline, simplified for maps (about 100 m), keeping its
    name, population and parents."""
    territory = get(session, code)
    geometry = spatial.simplified(spatial.from_geojson(geojson))
    territory.geometry = geometry
    (
        territory.bbox_west,
        territory.bbox_south,
        territory.bbox_east,
        territory.bbox_north,
    ) = geometry.bounds
    session.flush()


def scope(session: Session, code: str) -> set[str]:
    """The territory and every territory inside it (404 if unknown)."""
    get(session, code)
    return repository.descendants(session, code)


def unknown(session: Session, codes: list[str]) -> list[str]:
    """The codes among ``codes`` that name no territory."""
    known = repository.existing_codes(session, codes)
    return [c for c in codes if c not in known]


def autocomplete(session: Session, text: str, limit: int = 20) -> list[tuple[str, str, str]]:
    """Territories for an autocomplete: (code, name, level), shortest names first."""
    text = text.strip()
    return repository.suggest(session, text, limit) if text else []


def inside(session: Session, code: str) -> set[str]:
    """The territory and every territory inside it (just ``{code}`` if it is unknown)."""
    return repository.descendants(session, code)


def ancestors(session: Session, code: str) -> set[str]:
    return repository.ancestors(session, code)


def _actor_id(data: ActorCreate) -> str:
    actor_id = data.id or data.siret or data.siren
    if actor_id is None:
        raise _invalid("id", "give an id, a SIRET or a SIREN")
    if (data.lon is None) != (data.lat is None):
        raise _invalid("lon", "give both lon and lat, or neither")
    return actor_id


def _apply(actor: Actor, data: ActorCreate) -> None:
    """Set the actor's fields from ``data``; identifiers and location given as None are kept."""
    actor.siren = data.siren or (data.siret[:9] if data.siret else actor.siren)
    actor.siret = data.siret or actor.siret
    actor.name, actor.naf, actor.sector = data.name, data.naf, data.sector
    actor.territory_code = data.territory
    if data.lon is not None and data.lat is not None:
        actor.location = spatial.point(data.lon, data.lat)


def create_actor(session: Session, data: ActorCreate) -> Actor:
    get(session, data.territory)
    actor_id = _actor_id(data)
    if repository.get_actor(session, actor_id) is not None:
        raise Conflict(f"actor {actor_id!r} already exists")
    actor = Actor(id=actor_id, siren=None, siret=None, location=None)
    _apply(actor, data)
    session.add(actor)
    session.flush()
    return actor


def upsert_actor(session: Session, data: ActorCreate) -> Actor:
    """Create the actor, or refresh an existing one from ``data`` (connectors re-importing)."""
    actor = repository.get_actor(session, _actor_id(data))
    if actor is None:
        return create_actor(session, data)
    get(session, data.territory)
    _apply(actor, data)
    session.flush()
    return actor


def actor_read(actor: Actor) -> ActorRead:
    loc = actor.location
    return ActorRead(
        id=actor.id,
        siren=actor.siren,
        siret=actor.siret,
        name=actor.name,
        naf=actor.naf,
        sector=actor.sector,
        territory=actor.territory_code,
        lon=None if loc is None else float(loc.x),
        lat=None if loc is None else float(loc.y),
    )


def get_actor(session: Session, actor_id: str) -> Actor:
    actor = repository.get_actor(session, actor_id)
    if actor is None:
        raise NotFound(f"no actor {actor_id!r}")
    return actor


def list_actors(
    session: Session,
    *,
    territory: str | None,
    sector: str | None,
    page: int,
    page_size: int,
) -> tuple[list[ActorRead], int]:
    territories = scope(session, territory) if territory is not None else None
    rows, total = repository.list_actors(
        session,
        territories=territories,
        sector=sector,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return [actor_read(a) for a in rows], total
