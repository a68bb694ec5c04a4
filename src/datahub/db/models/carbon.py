"""Pre-aggregated carbon facts, written by the carbon engine when a dataset version is stored.

A trajectory never reads ``dataset_row``: each version of a standard carbon kind is indexed once
into these tables, every figure summed at its own territory (``own``) and rolled up INTO each
territory containing it (``scope``), following the hierarchy as it was at ingest time (the edges
used are kept in ``carbon_rollup_edge``; ``datahub carbon reindex`` rebuilds everything after a
hierarchy change). A trajectory for any scope then reads O(years × sectors × gases × actors)
rows through the primary key, whose leading columns are ``scope``, ``sector``, ``year``.

``actor`` is ``""`` for rows naming no actor (the territorial inventory), so it can sit in the
primary key; rows of an actor are rolled up from the actor's location.

``version_id`` names the dataset version a fact was derived from, without a foreign key: checking
one per row cost a third of the time to write a large upload's facts, and these tables are
derived data. The carbon engine deletes a version's facts when it stops being current and when
its dataset is deleted (``carbon.indexing.forget_versions``); ``datahub carbon reindex`` rebuilds
them all and drops any left over.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from datahub.db.base import Base


def _actor_index(name: str) -> Index:
    """Facts of actors, for an actor's trajectory. Partial: the territorial inventory (actor
    ``""``, most facts) stays out, so writing its facts does not pile up one huge key."""
    only_actors = text("actor <> ''")
    return Index(name, "actor", "own", postgresql_where=only_actors, sqlite_where=only_actors)


def _version_pk() -> Mapped[int]:
    return mapped_column(Integer, primary_key=True)


class CarbonRollupEdge(Base):
    """``territory`` lies in ``ancestor``: the hierarchy a version was rolled up with."""

    __tablename__ = "carbon_rollup_edge"
    __table_args__ = (Index("ix_carbon_rollup_edge_ancestor", "ancestor", "territory"),)

    version_id: Mapped[int] = _version_pk()
    territory: Mapped[str] = mapped_column(String(64), primary_key=True)
    ancestor: Mapped[str] = mapped_column(String(64), primary_key=True)


class CarbonEmissionFact(Base):
    """Σ of ``emissions`` rows per cell, in tonnes of ``gas`` (``CO2e``: already tCO2e).

    ``ghg`` is the row's gas label (the ``by=ghg`` key); ``gas`` what ``value`` is a mass of, so
    the GWP set is applied at query time (``ghg=CH4`` with a ``ktCO2e`` unit has ``gas=CO2e``).
    """

    __tablename__ = "carbon_emission_fact"
    __table_args__ = (
        _actor_index("ix_carbon_emission_fact_actor"),
        Index("ix_carbon_emission_fact_version_id", "version_id"),
    )

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    sector: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _version_pk()
    ghg: Mapped[str] = mapped_column(String(16), primary_key=True)
    gas: Mapped[str] = mapped_column(String(16), primary_key=True)
    actor: Mapped[str] = mapped_column(String(64), primary_key=True)
    own: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class CarbonActivityFact(Base):
    """Σ ``quantity`` of ``activity`` rows per cell and (factor, unit); ``first_row`` names a row
    of the group in errors. Multiplied by the factor at query time."""

    __tablename__ = "carbon_activity_fact"
    __table_args__ = (
        _actor_index("ix_carbon_activity_fact_actor"),
        Index("ix_carbon_activity_fact_version_id", "version_id"),
    )

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    sector: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _version_pk()
    actor: Mapped[str] = mapped_column(String(64), primary_key=True)
    factor: Mapped[str] = mapped_column(String(200), primary_key=True)
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    own: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    quantity: Mapped[float] = mapped_column(Float)
    first_row: Mapped[int] = mapped_column(Integer)


class CarbonLandFact(Base):
    """Σ hectares of ``land_use`` (kind ``flow``, key = land use) or ``land_use_change`` rows
    (kind ``change``, key = ``from->to``) per scope and year."""

    __tablename__ = "carbon_land_fact"
    __table_args__ = (Index("ix_carbon_land_fact_version_id", "version_id"),)

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _version_pk()
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    own: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    area_ha: Mapped[float] = mapped_column(Float)


class CarbonClimateFact(Base):
    """Heating degree days (DJU, base 18 °C) of a territory and year; not additive, no roll-up."""

    __tablename__ = "carbon_climate_fact"
    __table_args__ = (Index("ix_carbon_climate_fact_territory", "territory", "year"),)

    version_id: Mapped[int] = _version_pk()
    territory: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    hdd: Mapped[float] = mapped_column(Float)


class CarbonEmissionFactor(Base):
    """One row of an ``emission_factors`` version: ``value`` kgCO2e per ``unit``."""

    __tablename__ = "carbon_emission_factor"
    __table_args__ = (Index("ix_carbon_emission_factor_factor_id", "factor_id"),)

    version_id: Mapped[int] = _version_pk()
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    factor_id: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(500))
    unit: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class CarbonSequestrationFactor(Base):
    """One row of a ``sequestration_factors`` version, converted: ``flow`` in tCO2e/ha/yr
    (positive = removal), ``change`` in tCO2e/ha (positive = emission)."""

    __tablename__ = "carbon_sequestration_factor"
    __table_args__ = (Index("ix_carbon_sequestration_factor_territory", "territory"),)

    version_id: Mapped[int] = _version_pk()
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(40))
    territory: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)


class ReferenceDesignation(Base):
    """A dataset an admin has designated as the instance's reference for a kind of reference data
    (contract §5b): its factors or HDD may enter anyone's figures, not only its producer's."""

    __tablename__ = "reference_designation"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
