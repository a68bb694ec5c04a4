"""Callers with different views, through the HTTP API (contract §2, §5b): a charter member, or
a grantee, who reads some datasets in full and also gets the anonymous aggregates must not be
able to subtract what it reads and be left with one confidential actor's figure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.carbon.carbon_world import EPCI, LA_ROCHELLE, CarbonWorld, build_carbon_world, year
from tests.conftest import Persona

# La Rochelle, 2019, basis=actors (tCO2e):
#   industry     shared-charter P1 {s1 30, s2 30}, shared-charter P2 {s3 30, s4 30},
#                restricted-stat Q {r1 40}                                          = 160
#   residential  shared-charter P1 {t1 15, t2 20, t3 25}, shared-charter P2 {u1 30}   =  90
# Anonymous, industry has five actors (largest 25 %); without P1, without P2 or without Q it
# still has three or more: the per-organisation rule alone let it through, and a member, who
# reads the four shared figures (120), read r1 = 160 − 120 = 40. Less what a member reads,
# industry is r1 alone: withheld for everyone who uses Q's data in aggregate, and the total
# with it (total − residential = industry). Residential passes for everyone (four actors,
# 33 %; Q reads none of it, members all of it) and is shown — until P1 grants its dataset to
# an organisation outside the charter, which then reads t1..t3 and would be left with u1.
SHARED_P1 = {"industry": {"s1": 30, "s2": 30}, "residential": {"t1": 15, "t2": 20, "t3": 25}}
SHARED_P2 = {"industry": {"s3": 30, "s4": 30}, "residential": {"u1": 30}}
RESTRICTED_Q = {"industry": {"r1": 40}}


def _csv(rows: dict[str, dict[str, int]]) -> str:
    return "year;territory;sector;actor;value;unit\n" + "".join(
        f"2019;{LA_ROCHELLE};{sector};actor-{actor};{value};tCO2e\n"
        for sector, actors in rows.items()
        for actor, value in actors.items()
    )


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    built = build_carbon_world(client, make_user, admin)
    for rows in (SHARED_P1, SHARED_P2, RESTRICTED_Q):
        for sector, actors in rows.items():
            for actor in actors:
                built.actor(f"actor-{actor}", LA_ROCHELLE, sector)
    producers = {
        "p1": make_user("producer", "port-atlantique", member=True),
        "p2": make_user("producer", "cimenterie", member=True),
        "q": make_user("producer", "cooperative-agricole", member=False),
    }
    built.people.update(producers)
    for who, rows, licence in (
        ("p1", SHARED_P1, "shared-charter-1.0"),
        ("p2", SHARED_P2, "shared-charter-1.0"),
        ("q", RESTRICTED_Q, "restricted-stat-1.0"),
    ):
        built.producer = producers[who]
        dataset_id, _ = built.dataset("emissions", _csv(rows), licence=licence)
        setattr(built, f"dataset_{who}", dataset_id)
    return built


def _point(world: CarbonWorld, who: str, territory: str, **params: Any) -> dict[str, Any]:
    path = f"/api/v1/territories/{territory}/trajectory"
    return year(world.trajectory(path, who, basis="actors", **params), 2019)


@pytest.mark.parametrize("gwp", ["ar4", "ar5", "ar6"])
@pytest.mark.parametrize("by", ["sector", "none"])
def test_a_member_gets_no_restricted_actor_by_subtracting_what_it_reads(
    world: CarbonWorld, gwp: str, by: str
) -> None:
    for who in ("anonymous", "outsider", "member", "p1", "q"):
        for territory in (LA_ROCHELLE, EPCI):
            point = _point(world, who, territory, gwp=gwp, by=by)
            # industry and the total never appear, in any view, at either level...
            assert point["emissions"] is None, (who, territory)
            assert "industry" not in point["breakdown"], (who, territory)
            assert point["breakdown"].get("total") is None, (who, territory)
            # ...residential does (by sector): 90 t for everyone (a member reads it in full)
            if by == "sector":
                assert point["breakdown"]["residential"] == 90.0, (who, territory)


def test_a_grant_to_an_organisation_outside_the_charter_withholds_what_it_would_reveal(
    world: CarbonWorld,
) -> None:
    assert _point(world, "anonymous", LA_ROCHELLE)["breakdown"]["residential"] == 90.0
    # P1 grants its dataset to bureau-prive (the outsider, not a member): the outsider now
    # reads t1..t3 (60) and sees the anonymous residential cell: 90 − 60 = u1, one actor.
    response = world.client.post(
        f"/api/v1/datasets/{world.dataset_p1}/grants",  # type: ignore[attr-defined]
        json={"organization": "bureau-prive", "purpose": "étude"},
        headers=world.headers("p1"),
    )
    assert response.status_code == 201, response.text
    # Served again (the rendered trajectory was cached before the grant): withheld now, in
    # the anonymous view and in the outsider's (which uses P2's u1 in aggregate).
    for who in ("anonymous", "outsider"):
        for territory in (LA_ROCHELLE, EPCI):
            point = _point(world, who, territory)
            assert "residential" not in point["breakdown"], (who, territory)
            assert point["emissions"] is None, (who, territory)
    # A member reads both shared datasets: residential is its own reading, shown in full.
    assert _point(world, "member", LA_ROCHELLE)["breakdown"]["residential"] == 90.0
