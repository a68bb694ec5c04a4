"""Pydantic shapes of trajectories and targets (contract §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from datahub.carbon.plan_schemas import (
    BudgetOut,
    ContributionOut,
    CoveragePoint,
    ReferenceOut,
    ScenarioOut,
)

By = Literal["sector", "ghg", "none"]
Basis = Literal["inventory", "actors"]
Approach = Literal["territorial", "footprint"]
Use = Literal["full", "aggregate"]


class TrajectoryScope(BaseModel):
    territory: str | None
    sector: str | None
    actor: str | None
    basis: Basis | None = Field(description="inventory: rows naming no actor; actors: bottom-up.")
    approach: Approach
    gwp: Literal["ar4", "ar5", "ar6"]
    by: By
    climate_corrected: bool


class SeriesPoint(BaseModel):
    year: int
    emissions: float | None = Field(description="tCO2e; null when it would reveal a withheld cell")
    sequestration: float | None = Field(description="tCO2e removed (positive = absorbed)")
    net: float | None
    interpolated: bool
    breakdown: dict[str, float]


class PathPoint(BaseModel):
    year: int
    net: float


class TargetOut(BaseModel):
    reference_year: int
    target_year: int
    target_net: float
    pathway: Literal["linear", "exponential"]
    reference_net: float | None
    path: list[PathPoint]
    note: str | None = None


class GapPoint(BaseModel):
    year: int
    value: float


class ProjectionOut(BaseModel):
    method: Literal["linear"] = "linear"
    neutrality_year: int | None
    slope: float
    intercept: float


class WithheldOut(BaseModel):
    year: int
    key: str | None = Field(description="null: the year's totals (emissions and net)")
    reason: Literal["secrecy", "complementary"]


class SourceOut(BaseModel):
    dataset: str | None = Field(description="null for confidential data you may not know of")
    version: int | None
    licence: str
    licence_url: str
    attribution: str
    use: Use


class TrajectoryRead(BaseModel):
    scope: TrajectoryScope
    unit: Literal["tCO2e"] = "tCO2e"
    series: list[SeriesPoint]
    target: TargetOut | None
    gap: list[GapPoint]
    projection: ProjectionOut | None
    withheld: list[WithheldOut]
    sources: list[SourceOut]
    budget: BudgetOut | None = Field(None, description="With a target (contract §8)")
    reference: ReferenceOut | None = Field(None, description="With ?reference=<dataset id>")
    scenario: ScenarioOut | None = Field(None, description="With ?scenario=plan")
    contribution: ContributionOut | None = Field(
        None, description="An actor's share of its sector and territory (actor trajectories)"
    )
    coverage: list[CoveragePoint] | None = Field(
        None, description="With ?coverage=true: actors' total / inventory, per sector"
    )


class TargetWrite(BaseModel):
    # Python's json reads NaN and Infinity: refused here, not stored to break trajectories.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    reference_year: int = Field(ge=1900, le=2100)
    target_year: int = Field(ge=1900, le=2100)
    target_net: float = Field(0.0, description="tCO2e/yr aimed at in the target year")
    pathway: Literal["linear", "exponential"] = "linear"
    reference_net: float | None = Field(
        None,
        description="Net emissions of the reference year (tCO2e/yr) the path starts from, the "
        "same for every caller. Default: the reference year's net as published then (what an "
        "anonymous caller is shown); when that is withheld, give it here.",
    )

    @model_validator(mode="after")
    def _check(self) -> TargetWrite:
        if self.target_year <= self.reference_year:
            raise ValueError("target_year must come after reference_year")
        if self.pathway == "exponential" and self.target_net == 0:
            raise ValueError(
                "a constant annual rate (exponential pathway) never reaches 0; use linear"
            )
        return self


class TargetRead(BaseModel):
    territory: str
    reference_year: int
    target_year: int
    target_net: float
    pathway: Literal["linear", "exponential"]
    reference_net: float | None
    updated_at: datetime
