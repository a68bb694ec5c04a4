"""SQL for territories, their hierarchy, actors and targets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from datahub.db.models import Actor, Target, Territory, TerritoryParent
from datahub.db.paging import count


def get(session: Session, code: str) -> Territory | None:
    return session.get(Territory, code)


def many(session: Session, codes: Iterable[str]) -> Sequence[Territory]:
    wanted = list(set(codes))
    if not wanted:
        return []
    return session.scalars(select(Territory).where(Territory.code.in_(wanted))).all()


def existing_codes(session: Session, codes: Iterable[str]) -> set[str]:
    wanted = list(set(codes))
    if not wanted:
        return set()
    return set(session.scalars(select(Territory.code).where(Territory.code.in_(wanted))))


def suggest(session: Session, text: str, limit: int) -> list[tuple[str, str, str]]:
    """(code, name, level) of territories whose code starts with, or name contains, ``text``."""
    needle = text.lower().replace("\\", "").replace("%", "").replace("_", "\\_")
    query = (
        select(Territory.code, Territory.name, Territory.level)
        .where(
            or_(
                func.lower(Territory.code).like(f"{needle}%", escape="\\"),
                func.lower(Territory.name).like(f"%{needle}%", escape="\\"),
            )
        )
        .order_by(func.length(Territory.name), Territory.code)
        .limit(limit)
    )
    return [(code, name, level) for code, name, level in session.execute(query)]


def list_page(
    session: Session,
    *,
    level: str | None,
    parent: str | None,
    offset: int,
    limit: int,
    bbox: tuple[float, float, float, float] | None = None,
) -> tuple[Sequence[Territory], int]:
    query = select(Territory)
    if bbox is not None:  # bounding boxes that meet the one asked for
        west, south, east, north = bbox
        query = query.where(
            Territory.bbox_east >= west,
            Territory.bbox_west <= east,
            Territory.bbox_north >= south,
            Territory.bbox_south <= north,
        )
    if level is not None:
        query = query.where(Territory.level == level)
    if parent is not None:
        query = query.join(TerritoryParent, TerritoryParent.child_code == Territory.code).where(
            TerritoryParent.parent_code == parent
        )
    total = count(session, query)
    rows = session.scalars(query.order_by(Territory.code).offset(offset).limit(limit)).all()
    return rows, total


def parents_of(session: Session, codes: Sequence[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = defaultdict(list)
    if not codes:
        return result
    edges = session.execute(
        select(TerritoryParent.child_code, TerritoryParent.parent_code)
        .where(TerritoryParent.child_code.in_(codes))
        .order_by(TerritoryParent.parent_code)
    )
    for child, parent in edges:
        result[child].append(parent)
    return result


def set_parents(session: Session, code: str, parents: Sequence[str]) -> None:
    for edge in session.scalars(select(TerritoryParent).where(TerritoryParent.child_code == code)):
        if edge.parent_code not in parents:
            session.delete(edge)
    known = set(
        session.scalars(
            select(TerritoryParent.parent_code).where(TerritoryParent.child_code == code)
        )
    )
    for parent in parents:
        if parent not in known:
            session.add(TerritoryParent(child_code=code, parent_code=parent))


def descendants(session: Session, code: str) -> set[str]:
    """``code`` and every territory inside it, following the hierarchy edges."""
    tree = (
        select(TerritoryParent.child_code.label("code"))
        .where(TerritoryParent.parent_code == code)
        .cte("tree", recursive=True)
    )
    tree = tree.union(
        select(TerritoryParent.child_code).join(tree, TerritoryParent.parent_code == tree.c.code)
    )
    return {code, *session.scalars(select(tree.c.code))}


def ancestors(session: Session, code: str) -> set[str]:
    """Every territory ``code`` lies in (not including itself)."""
    tree = (
        select(TerritoryParent.parent_code.label("code"))
        .where(TerritoryParent.child_code == code)
        .cte("up", recursive=True)
    )
    tree = tree.union(
        select(TerritoryParent.parent_code).join(tree, TerritoryParent.child_code == tree.c.code)
    )
    return set(session.scalars(select(tree.c.code)))


def get_actor(session: Session, actor_id: str) -> Actor | None:
    return session.get(Actor, actor_id)


def list_actors(
    session: Session, *, territories: set[str] | None, sector: str | None, offset: int, limit: int
) -> tuple[Sequence[Actor], int]:
    query = select(Actor)
    if territories is not None:
        query = query.where(Actor.territory_code.in_(territories))
    if sector is not None:
        query = query.where(Actor.sector == sector)
    total = count(session, query)
    rows = session.scalars(query.order_by(Actor.id).offset(offset).limit(limit)).all()
    return rows, total


def get_target(session: Session, code: str) -> Target | None:
    return session.get(Target, code)
