"""What a trajectory is asked for: its scope (a territory, a sector of it, or an actor) and the
request's options. Plain values, shared by every stage of the read path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from datahub.carbon.schemas import Approach, Basis, By
from datahub.carbon.units import GwpSet


@dataclass(frozen=True)
class TrajectoryParams:
    year_from: int | None = None
    year_to: int | None = None
    by: By = "sector"
    basis: Basis = "inventory"
    approach: Approach = "territorial"
    gwp: GwpSet | None = None
    climate_corrected: bool = False
    interpolate: bool = False
    reference: str | None = None
    scenario: Literal["plan"] | None = None
    coverage: bool = False


@dataclass(frozen=True)
class Scope:
    territory: str | None = None
    sector: str | None = None
    actor: str | None = None

    @property
    def kind(self) -> Literal["territory", "sector", "actor"]:
        if self.actor is not None:
            return "actor"
        return "sector" if self.sector is not None else "territory"
