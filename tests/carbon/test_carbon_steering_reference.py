"""?reference=<reference_trajectory dataset>: the SNBC territorialised trajectory against the
observed inventory (contract §8), with access rules, secrecy, CSV and a bad dataset."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.carbon.carbon_world import EPCI, LA_ROCHELLE, CarbonWorld, build_carbon_world
from tests.conftest import Persona
from tests.paths import TEST_DATA

SNBC = TEST_DATA / "reference" / "snbc" / "tet-snbc-territorialisee-fixture.csv"
TRAJECTORY = f"/api/v1/territories/{EPCI}/trajectory"


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    return build_carbon_world(client, make_user, admin)


def snbc_reference() -> str:
    """The fixture's wide table (TeT ids per column) as reference_trajectory rows for the EPCI:
    ``cae_1.c`` is residential and ``cae_1.d`` tertiary (their sub-sectors are left out)."""
    out = ["year,territory,sector,value,unit,source"]
    with SNBC.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for column, sector in (
                ("cae_1.c_residentiel_tCO2e", "residential"),
                ("cae_1.d_tertiaire_tCO2e", "tertiary"),
            ):
                value = row[column]
                out.append(f"{row['annee']},{EPCI},{sector},{value},tCO2e,SNBC territorialisée")
    return "\n".join(out) + "\n"


def _observed(world: CarbonWorld) -> None:
    world.dataset(
        "emissions",
        "year,territory,sector,value,unit\n"
        f"2015,{LA_ROCHELLE},residential,513.79,ktCO2e\n"
        f"2015,{LA_ROCHELLE},tertiary,451040,tCO2e\n"
        f"2019,{LA_ROCHELLE},residential,530000,tCO2e\n"
        f"2019,{LA_ROCHELLE},tertiary,400000,tCO2e\n",
    )


def test_snbc_reference_and_gap(world: CarbonWorld) -> None:
    _observed(world)
    reference_id, _ = world.dataset("reference_trajectory", snbc_reference())
    body = world.trajectory(TRAJECTORY, reference=reference_id)
    reference = body["reference"]
    assert reference["dataset"] == reference_id
    assert reference["version"] == 1
    years = {y["year"]: y for y in reference["years"]}
    # Every year of the fixture, 2015..2050.
    assert sorted(years) == list(range(2015, 2051))
    # The fixture's 2019 row: residential 515 500, tertiary 401 770 (tCO2e).
    assert years[2019]["values"] == {"residential": 515500.0, "tertiary": 401770.0}
    # Observed 2019 minus the reference: 530 000 − 515 500 = +14 500 (above the SNBC path);
    # 400 000 − 401 770 = −1 770 (below it).
    assert years[2019]["gap"] == {
        "residential": pytest.approx(14500.0),
        "tertiary": pytest.approx(-1770.0),
    }
    # 2015 is the SNBC's reference year: the workbook starts from the observed inventory, so
    # the gap is 0 (513.79 kt converted to 513 790 t).
    assert years[2015]["gap"] == {"residential": 0.0, "tertiary": 0.0}
    # 2030, no observation: the reference without a gap (311 380 and 182 650 in the fixture;
    # together −48.8 % from 2015's 964 830, the SNBC-2 building target of about −49 %).
    assert years[2030]["values"] == {"residential": 311380.0, "tertiary": 182650.0}
    assert years[2030]["gap"] == {}
    assert (311380 + 182650) / (513790 + 451040) - 1 == pytest.approx(-0.488, abs=1e-3)
    # The reference dataset is listed among the sources.
    assert reference_id in {s["dataset"] for s in body["sources"]}

    # A sector trajectory gets its sector's reference only.
    sector = world.trajectory(
        "/api/v1/sectors/tertiary/trajectory", territory=EPCI, reference=reference_id
    )
    assert {y["year"]: y for y in sector["reference"]["years"]}[2019] == {
        "year": 2019,
        "values": {"tertiary": 401770.0},
        "gap": {"tertiary": pytest.approx(-1770.0)},
    }
    # by=none has no sector cells to compare: values without gaps (no `total` row given).
    flat = world.trajectory(TRAJECTORY, reference=reference_id, by="none")
    assert {y["year"]: y for y in flat["reference"]["years"]}[2019]["gap"] == {}

    response = world.client.get(TRAJECTORY, params={"reference": reference_id, "format": "csv"})
    rows = {(r["year"], r["key"]): r["value"] for r in csv.DictReader(io.StringIO(response.text))}
    assert float(rows[("2019", "reference:residential")]) == 515500.0
    assert float(rows[("2019", "reference_gap:tertiary")]) == pytest.approx(-1770.0)


def test_total_and_net_rows(world: CarbonWorld) -> None:
    _observed(world)
    reference_id, _ = world.dataset(
        "reference_trajectory",
        "year,territory,sector,value,unit,source\n"
        f"2019,{EPCI},total,0.9,MtCO2e,PCAET\n"
        f"2019,{EPCI},net,880,ktCO2e,PCAET\n",
    )
    years = {
        y["year"]: y
        for y in world.trajectory(TRAJECTORY, reference=reference_id)["reference"]["years"]
    }
    # 2019 emissions 530 000 + 400 000 = 930 000; against 0.9 Mt: +30 000. No land data, so
    # net = 930 000; against 880 kt: +50 000.
    assert years[2019]["gap"] == {"total": pytest.approx(30000.0), "net": pytest.approx(50000.0)}


def test_reference_access_rules(world: CarbonWorld) -> None:
    _observed(world)
    reference_id, _ = world.dataset(
        "reference_trajectory", snbc_reference(), licence="restricted-1.0"
    )
    # Anonymous callers may not know a restricted dataset exists: 404, as everywhere else.
    anonymous = world.client.get(TRAJECTORY, params={"reference": reference_id})
    assert anonymous.status_code == 404
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    # An authenticated outsider sees its metadata but may not read it: 403, audited.
    outsider = world.client.get(
        TRAJECTORY, params={"reference": reference_id}, headers=world.headers("outsider")
    )
    assert outsider.status_code == 403
    # Its producer reads it; the use is audited as a trajectory use of the dataset.
    assert world.trajectory(TRAJECTORY, "producer", reference=reference_id)["reference"]
    events = world.client.get(
        "/api/v1/audit/events", params={"dataset": reference_id}, headers=world.admin.headers
    ).json()
    items = events["data"] if isinstance(events, dict) else events
    outcomes = sorted(
        (e["action"], e["outcome"]) for e in items if e["action"] == "dataset.trajectory_use"
    )
    # Both refusals are audited (as for the rows), and the producer's read.
    assert [o for _, o in outcomes] == ["allowed", "denied", "denied"]
    # An unknown id is a 404; a dataset of another kind is a 422 naming the parameter.
    assert world.client.get(TRAJECTORY, params={"reference": "nope"}).status_code == 404
    emissions_id, _ = world.dataset(
        "emissions", f"year,territory,sector,value,unit\n2019,{EPCI},waste,1,tCO2e\n"
    )
    wrong = world.client.get(TRAJECTORY, params={"reference": emissions_id})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "reference"


def test_reference_rows_are_validated(world: CarbonWorld) -> None:
    body = world.dataset(
        "reference_trajectory",
        "year,territory,sector,value,unit,source\n"
        f"2019,{EPCI},shipping,1,tCO2e,x\n"
        f"2020,{EPCI},residential,1,tCH4,x\n",
        expect=422,
    )[1]
    fields = {(e["row"], e["field"]) for e in body["errors"]}
    assert fields == {(1, "sector"), (2, "unit")}
