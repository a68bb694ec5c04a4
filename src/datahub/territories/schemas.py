"""Pydantic shapes of territories and actors."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from datahub.territories.codes import CODE_PATTERN, Level, explain
from datahub.vocabulary import EMISSION_SECTORS

SECTORS = EMISSION_SECTORS


def _checked_code(value: Any) -> Any:
    """Say what was meant (``commune:17300``) instead of quoting the pattern."""
    if isinstance(value, str) and not re.match(CODE_PATTERN, value):
        raise ValueError(explain(value))
    return value


class TerritoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE_PATTERN, examples=["commune:17300"])
    name: str = Field(min_length=1, max_length=300)
    level: Level
    parent: str | list[str] | None = Field(
        None, description="Code(s) of the territories this one lies in (EPCI, département...)."
    )
    geometry: dict[str, Any] | None = Field(None, description="GeoJSON geometry, WGS84 lon/lat.")
    population: int | None = Field(None, ge=0)

    @field_validator("code", mode="before")
    @classmethod
    def _code_hint(cls, value: Any) -> Any:
        return _checked_code(value)

    @property
    def parents(self) -> list[str]:
        if self.parent is None:
            return []
        return [self.parent] if isinstance(self.parent, str) else list(self.parent)


class TerritoryRead(BaseModel):
    code: str
    name: str
    level: Level
    parents: list[str]
    population: int | None
    has_geometry: bool
    updated_at: datetime


class ActorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    siren: str | None = Field(None, pattern=r"^\d{9}$")
    siret: str | None = Field(None, pattern=r"^\d{14}$")
    name: str = Field(min_length=1, max_length=300)
    naf: str | None = Field(None, pattern=r"^\d{2}\.?\d{2}[A-Z]$", examples=["35.11Z"])
    sector: str | None = Field(None, description="PCAET sector id.")
    territory: str = Field(pattern=CODE_PATTERN)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)

    @field_validator("territory", mode="before")
    @classmethod
    def _territory_hint(cls, value: Any) -> Any:
        return _checked_code(value)

    @field_validator("sector")
    @classmethod
    def _known_sector(cls, value: str | None) -> str | None:
        if value is not None and value not in SECTORS:
            raise ValueError(f"unknown sector; expected one of {', '.join(SECTORS)}")
        return value


class ActorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    siren: str | None
    siret: str | None
    name: str
    naf: str | None
    sector: str | None
    territory: str
    lon: float | None
    lat: float | None
