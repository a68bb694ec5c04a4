"""Territories (with their hierarchy and geometry), actors, territory targets and plans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from datahub.db.base import Base
from datahub.db.models._common import utcnow
from datahub.db.types import Geometry, JsonColumn, UTCDateTime


class Territory(Base):
    __tablename__ = "territory"
    __table_args__ = (Index("ix_territory_bbox", "bbox_west", "bbox_east"),)

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(300))
    population: Mapped[int | None] = mapped_column(BigInteger)
    geometry: Mapped[BaseGeometry | None] = mapped_column(Geometry("GEOMETRY"))
    # The geometry's bounding box (WGS84), written with it: bbox filters in SQL on any backend.
    bbox_west: Mapped[float | None] = mapped_column(Float)
    bbox_south: Mapped[float | None] = mapped_column(Float)
    bbox_east: Mapped[float | None] = mapped_column(Float)
    bbox_north: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TerritoryParent(Base):
    """An edge of the hierarchy. A commune has several parents (its EPCI and its département)."""

    __tablename__ = "territory_parent"

    child_code: Mapped[str] = mapped_column(
        ForeignKey("territory.code", ondelete="CASCADE"), primary_key=True
    )
    parent_code: Mapped[str] = mapped_column(
        ForeignKey("territory.code", ondelete="CASCADE"), primary_key=True, index=True
    )


class Actor(Base):
    __tablename__ = "actor"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    siren: Mapped[str | None] = mapped_column(String(9), index=True)
    siret: Mapped[str | None] = mapped_column(String(14), index=True)
    name: Mapped[str] = mapped_column(String(300))
    naf: Mapped[str | None] = mapped_column(String(8))
    sector: Mapped[str | None] = mapped_column(String(32))
    territory_code: Mapped[str] = mapped_column(ForeignKey("territory.code"), index=True)
    location: Mapped[BaseGeometry | None] = mapped_column(Geometry("POINT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Target(Base):
    """A territory's carbon target: from the reference year's net to ``target_net``."""

    __tablename__ = "target"

    territory_code: Mapped[str] = mapped_column(
        ForeignKey("territory.code", ondelete="CASCADE"), primary_key=True
    )
    reference_year: Mapped[int] = mapped_column(Integer)
    target_year: Mapped[int] = mapped_column(Integer)
    target_net: Mapped[float] = mapped_column(Float, default=0.0)
    pathway: Mapped[str] = mapped_column(String(16), default="linear")
    #: The reference year's net as it stood when the target was set (None: not known then).
    reference_net: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PlanVersion(Base):
    """One version of a territory's action plan (contract §8); each PUT adds the next number.

    ``actions`` holds the validated actions as JSON: a plan is read and written whole.
    """

    __tablename__ = "plan_version"

    territory_code: Mapped[str] = mapped_column(
        ForeignKey("territory.code", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer)
    organization_id: Mapped[str | None] = mapped_column(String(64))


class ActorTarget(Base):
    """An actor's own target, set by its organisation (contract §8)."""

    __tablename__ = "actor_target"

    actor_id: Mapped[str] = mapped_column(
        ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True
    )
    reference_year: Mapped[int] = mapped_column(Integer)
    target_year: Mapped[int] = mapped_column(Integer)
    target_net: Mapped[float] = mapped_column(Float, default=0.0)
    pathway: Mapped[str] = mapped_column(String(16), default="linear")
    organization_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
