"""The append-only, hash-chained audit log and the per-day counters of open-data reads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from datahub.db.base import Base
from datahub.db.types import JsonColumn, UTCDateTime


class AuditEvent(Base):
    """``seq`` is the position in the chain; ``hash`` covers every other field and ``prev_hash``.

    Ids are plain strings with no foreign keys: the record must outlive what it talks about.
    """

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    user_email: Mapped[str | None] = mapped_column(String(320))
    organization_id: Mapped[str | None] = mapped_column(String(64), index=True)
    dataset_id: Mapped[str | None] = mapped_column(String(100), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    licence: Mapped[str | None] = mapped_column(String(64))
    basis: Mapped[str | None] = mapped_column(String(48))
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    request_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OpenReadCount(Base):
    """Reads of open data are counted per dataset and day, not logged one by one."""

    __tablename__ = "open_read_count"

    dataset_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reads: Mapped[int] = mapped_column(BigInteger, default=0)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)


class AuditSeal(Base):
    """A signature over the chain head: event ``seq`` had ``hash`` at ``sealed_at``.

    A copy of each seal also lives in storage (``audit/seals/``), so deleting it here is seen.
    """

    __tablename__ = "audit_seal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_fingerprint: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(String(128))
