"""Pydantic shapes of action plans and of the steering parts of a trajectory (contract §8)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_ACTIONS = 500


class Effect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["absolute", "relative"] = Field(
        description="absolute: tCO2e/yr avoided (or removed, for lulucf) once fully in effect; "
        "relative: a share (0 < value ≤ 1) of the sector's emissions in start_year."
    )
    value: float = Field(allow_inf_nan=False)


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str = Field(min_length=1, max_length=300)
    sector: str = Field(description="A PCAET sector id (or lulucf).")
    actor: str | None = Field(None, max_length=64, description="An actor id (`/actors/{id}`).")
    start_year: int = Field(ge=1900, le=2100)
    end_year: int = Field(ge=1900, le=2100, description="Full effect from this year on.")
    effect: Effect
    status: Literal["planned", "ongoing", "done"] = "planned"


class PlanWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actions: list[Action] = Field(max_length=MAX_ACTIONS)


class PlanRead(BaseModel):
    territory: str
    version: int
    actions: list[Action]
    created_at: datetime
    organization: str | None


# --- the steering parts of a trajectory ------------------------------------------------------


class BudgetOut(BaseModel):
    """Cumulative nets and rates; see the README's "Budget and effort" for the formulas."""

    from_year: int = Field(description="The target's reference year (first year summed).")
    to_year: int = Field(description="The target year (last year summed).")
    target_path: float = Field(description="Σ target path, from_year..to_year inclusive (tCO2e)")
    trend: float | None = Field(description="Σ least-squares trend over the same years (tCO2e)")
    scenario: float | None = Field(
        description="trend minus what the plan avoids from the last observed year (tCO2e); "
        "with ?scenario=plan"
    )
    last_observed_year: int | None
    required_rate: float | None = Field(
        description="Compound annual rate from the last observed net to the target net: "
        "(target_net / net_L)^(1/(T − L)) − 1 (−0.05 = −5 %/yr); null when no constant rate "
        "links them (e.g. a target of 0)"
    )
    required_annual_change: float | None = Field(
        description="(target_net − net_L) / (T − L), tCO2e per year"
    )
    observed_from_year: int | None = Field(
        description="First year with a shown net among the five before the last observed one"
    )
    observed_rate: float | None = Field(
        description="Compound average annual rate (net_L / net_y0)^(1/(L − y0)) − 1"
    )
    observed_annual_change: float | None = Field(description="(net_L − net_y0) / (L − y0)")


class ReferencePoint(BaseModel):
    year: int
    values: dict[str, float] = Field(description="tCO2e per sector, `total` or `net`")
    gap: dict[str, float] = Field(
        description="shown observed figure − reference (absent where the figure is withheld)"
    )


class ReferenceOut(BaseModel):
    dataset: str
    version: int
    years: list[ReferencePoint]


class ScenarioPoint(BaseModel):
    year: int
    baseline: float = Field(description="The least-squares trend in this year")
    net: float = Field(description="baseline − avoided")
    avoided: float
    gap: float | None = Field(description="net − target path")
    contributions: dict[str, float] = Field(description="tCO2e avoided per action id")


class ScenarioAction(BaseModel):
    id: str
    title: str
    sector: str
    full_effect: float = Field(description="tCO2e/yr once fully in effect")
    avoided: float = Field(description="Σ avoided over the scenario's years")
    share: float | None = Field(description="avoided / Σ avoided by every action")


class ScenarioOut(BaseModel):
    plan_version: int | None
    from_year: int
    to_year: int
    series: list[ScenarioPoint]
    actions: list[ScenarioAction]
    neutrality_year: int | None
    unavailable: list[str] = Field(
        description="Relative actions on a sector whose figures are withheld: not counted"
    )


class ContributionPoint(BaseModel):
    year: int
    emissions: float = Field(description="The actor's emissions (tCO2e)")
    sector_emissions: float | None = Field(
        description="Its sector in its territory's inventory (null: withheld or absent)"
    )
    territory_emissions: float | None = Field(description="Its territory's inventory total")
    share_of_sector: float | None
    share_of_territory: float | None


class ContributionOut(BaseModel):
    territory: str
    sector: str | None
    series: list[ContributionPoint]


class CoveragePoint(BaseModel):
    year: int
    sectors: dict[str, float] = Field(description="actors' total / inventory, per sector")
    total: float | None


class ActorTargetRead(BaseModel):
    actor: str
    reference_year: int
    target_year: int
    target_net: float
    pathway: Literal["linear", "exponential"]
    organization: str | None
    updated_at: datetime
