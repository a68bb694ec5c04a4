"""Counters that change whenever the data behind cached results changes (see db.generation)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from datahub.db.base import Base


class DataGeneration(Base):
    __tablename__ = "data_generation"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
