"""Pydantic shapes of datasets and versions at the edge."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Approach = Literal["territorial", "footprint"]
DATASET_ID = r"^[a-z0-9][a-z0-9_-]{0,99}$"
_TERRITORY = re.compile(r"^(commune|epci|departement|region|country):[0-9A-Za-z]{2,9}$")
_YEAR = re.compile(r"^\d{4}$")


class TemporalCoverage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date | None = None
    end: date | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """Accept ``"2012/2018"`` (ISO 8601 interval) and bare years as well as objects."""
        if isinstance(value, str):
            start, _, end = value.partition("/")
            value = {"start": start or None, "end": end or None}  # years completed below
        if isinstance(value, dict):
            fixed = dict(value)
            for key, suffix in (("start", "-01-01"), ("end", "-12-31")):
                item = fixed.get(key)
                if isinstance(item, int) or (isinstance(item, str) and _YEAR.match(item)):
                    fixed[key] = f"{item}{suffix}"
            return fixed
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TemporalCoverage:
        if self.start and self.end and self.start > self.end:
            raise ValueError("start is after end")
        return self


def _check_territories(codes: list[str]) -> list[str]:
    bad = [c for c in codes if not _TERRITORY.match(c)]
    if bad:
        raise ValueError(f"not a territory code (level:code): {', '.join(bad[:5])}")
    return list(dict.fromkeys(codes))


def _check_tags(tags: list[str]) -> list[str]:
    cleaned = [t.strip() for t in tags if t.strip()]
    if any(len(t) > 60 for t in cleaned):
        raise ValueError("a tag is longer than 60 characters")
    return list(dict.fromkeys(cleaned))


class DatasetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        None, pattern=DATASET_ID, description="Slug; made from the title if absent."
    )
    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=20_000)
    licence: str = Field(min_length=1, max_length=300, description="Licence id, alias or URL.")
    kind: str = Field("generic", max_length=32, description="Standard Table Schema of the rows.")
    approach: Approach = "territorial"
    tags: list[str] = Field(default_factory=list, max_length=50)
    territories: list[str] = Field(default_factory=list, max_length=1000)
    temporal_coverage: TemporalCoverage | None = None
    producer: str | None = Field(
        None, description="Producing organisation (admins only; producers publish for their own)."
    )

    _territories = field_validator("territories")(_check_territories)
    _tags = field_validator("tags")(_check_tags)


class DatasetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=20_000)
    licence: str | None = Field(None, min_length=1, max_length=300)
    approach: Approach | None = None
    tags: list[str] | None = Field(None, max_length=50)
    territories: list[str] | None = Field(None, max_length=1000)
    temporal_coverage: TemporalCoverage | None = None

    @field_validator("territories")
    @classmethod
    def _territories(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_territories(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_tags(value)


class LicenceRef(BaseModel):
    id: str
    title: str
    url: str
    level: str


class Access(BaseModel):
    """What the caller may do with the dataset's data."""

    data: bool
    basis: str | None


class DatasetRead(BaseModel):
    id: str
    title: str
    description: str
    producer: str
    licence: LicenceRef
    level: str
    kind: str
    approach: str
    tags: list[str]
    territories: list[str]
    temporal_coverage: TemporalCoverage | None
    provenance: dict[str, Any]
    current_version: int | None
    created_at: datetime
    updated_at: datetime
    access: Access


class VersionRead(BaseModel):
    number: int
    filename: str
    media_type: str
    format: str
    size: int | None = Field(description="bytes; null unless you may read the data")
    sha256: str | None = Field(
        description="of the original file; null unless you may read the data"
    )
    row_count: int
    columns: list[dict[str, Any]]
    report: dict[str, Any]
    provenance: dict[str, Any]
    created_at: datetime
    current: bool
