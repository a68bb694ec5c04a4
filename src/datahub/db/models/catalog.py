"""Datasets, their versions and the rows of each version."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datahub.db.base import Base
from datahub.db.models._common import utcnow
from datahub.db.types import JsonColumn, UTCDateTime
from datahub.vocabulary import AccessLevel


class Dataset(Base):
    __tablename__ = "dataset"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    licence_id: Mapped[str] = mapped_column(String(64), index=True)
    level: Mapped[AccessLevel] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    approach: Mapped[str] = mapped_column(String(16), default="territorial")
    tags: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    temporal_start: Mapped[date | None] = mapped_column(Date)
    temporal_end: Mapped[date | None] = mapped_column(Date)
    provenance: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    #: Title, description and tags, lower-cased and accent-folded, for portable search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    current_version: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetTerritory(Base):
    __tablename__ = "dataset_territory"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    territory_code: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class DatasetVersion(Base):
    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(120))
    format: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    row_count: Mapped[int] = mapped_column(BigInteger)
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn, default=list)
    report: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    provenance: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
