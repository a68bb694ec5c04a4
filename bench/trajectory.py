"""Benchmark: trajectory latency over pre-aggregated facts vs a naive GROUP BY on raw rows.

    DATAHUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/bench \
        python bench/trajectory.py --communes 2000 --years 36

Builds a synthetic country (communes grouped 25 per EPCI, 8 EPCI per département, 8 départements
per region), one open ``emissions`` dataset with one row per commune × sector × year (plus a few
actors' rows), stores the raw rows in the version's typed row table (``catalog.rowstore``) as an
upload does, and indexes them through the upload's own carbon hook
(``carbon.indexing.index_version``, watching the batches). Then it times, **through the ASGI
app** (FastAPI ``TestClient``, anonymous caller, JSON), the territory, sector and actor endpoints
for a commune, an EPCI, a region and the country (and the territory with
``?scenario=plan&reference=…``: a 12-action plan and a reference trajectory), and in the same
run a naive ``GROUP BY year, sector`` over the raw typed rows of the same scopes (the territory
codes of the scope found first by the recursive hierarchy query).
A second, confidential ``emissions`` dataset (``restricted-stat-1.0``, ``--secret-actors``
actors' rows) is timed through the territory endpoint with ``basis=actors``, where an anonymous
caller uses it in aggregate under statistical secrecy, beside the open data alone.
``--communes 35000 --years 36`` is the full 10M-row run. The database is wiped first (give it a
database of its own).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select

from datahub.app import create_app
from datahub.carbon.indexing import index_version
from datahub.carbon.sectors import EMISSION_SECTORS
from datahub.catalog import rowstore
from datahub.db import migrate
from datahub.db.models import (
    Actor,
    Dataset,
    DatasetVersion,
    Organization,
    PlanVersion,
    Target,
    Territory,
    TerritoryParent,
)
from datahub.runtime import build_runtime
from datahub.settings import Settings
from datahub.territories import repository as territory_repository

ORG = "bench-org"
DATASET = "bench-emissions"
REFERENCE = "bench-reference"
CONFIDENTIAL = "bench-confidential"
SCOPES = {
    "commune": "commune:10000",
    "epci": "epci:200000000",
    "region": "region:10",
    "country": "country:FR",
}
#: The steering variant: the plan's scenario and a reference trajectory, on the series up to
#: 2030 so the scenario runs 2030..2050 (the synthetic data goes on to 2050).
STEERING = {"scenario": "plan", "reference": REFERENCE, "to": 2030}


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def build_territories(communes: int) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    rows: list[dict[str, Any]] = [{"code": "country:FR", "level": "country", "name": "France"}]
    edges: list[dict[str, str]] = []
    n_epci = max(1, communes // 25)
    n_dept = max(1, n_epci // 8)
    n_region = max(1, n_dept // 8)
    for r in range(n_region):
        rows.append({"code": f"region:{10 + r:02d}", "level": "region", "name": f"Région {r}"})
        edges.append({"child_code": f"region:{10 + r:02d}", "parent_code": "country:FR"})
    for d in range(n_dept):
        code = f"departement:{10 + d:02d}" if d < 85 else f"departement:9{70 + d - 85:02d}"
        rows.append({"code": code, "level": "departement", "name": f"Département {d}"})
        edges.append({"child_code": code, "parent_code": f"region:{10 + d % n_region:02d}"})
    depts = [r["code"] for r in rows if r["level"] == "departement"]
    for e in range(n_epci):
        code = f"epci:{200000000 + e}"
        rows.append({"code": code, "level": "epci", "name": f"EPCI {e}"})
        edges.append({"child_code": code, "parent_code": depts[e % len(depts)]})
    for c in range(communes):
        code = f"commune:{10000 + c:05d}"
        epci = f"epci:{200000000 + c % n_epci}"
        dept = depts[(c % n_epci) % len(depts)]
        rows.append({"code": code, "level": "commune", "name": f"Commune {c}"})
        edges += [
            {"child_code": code, "parent_code": epci},
            {"child_code": code, "parent_code": dept},
        ]
    return rows, edges


def raw_rows(communes: int, years: int, actors: int) -> Iterator[dict[str, Any]]:
    for c in range(communes):
        for year in range(2050 - years + 1, 2051):
            for s, sector in enumerate(EMISSION_SECTORS):
                value = 1000.0 + (c * 7 + year * 3 + s * 11) % 500
                yield {
                    "year": year,
                    "territory": f"commune:{10000 + c:05d}",
                    "sector": sector,
                    "value": value,
                    "unit": "tCO2e",
                }
    for a in range(actors):
        for year in range(2050 - years + 1, 2051):
            yield {
                "year": year,
                "territory": f"commune:{10000 + (a * 10) % communes:05d}",
                "sector": "industry",
                "actor": f"bench-actor-{a}",
                "value": 200.0 + a % 50,
                "unit": "tCO2e",
            }


def load(settings: Settings, communes: int, years: int, actors: int, secret_actors: int) -> None:
    runtime = build_runtime(settings)
    started = time.perf_counter()
    with runtime.transaction() as session:
        old = session.execute(
            select(DatasetVersion.id, DatasetVersion.dataset_id).where(
                DatasetVersion.dataset_id.in_([DATASET, REFERENCE, CONFIDENTIAL])
            )
        )
        for old_id, dataset_id in list(old):
            columns = REFERENCE_COLUMNS if dataset_id == REFERENCE else COLUMNS
            rowstore.drop(session.connection(), rowstore.table(old_id, rowstore.layout(columns)))
        session.execute(delete(Dataset).where(Dataset.id.in_([DATASET, REFERENCE, CONFIDENTIAL])))
        session.execute(delete(Actor).where(Actor.id.like("bench-%")))
        session.execute(delete(TerritoryParent))
        session.execute(delete(Territory))
        session.execute(delete(Organization).where(Organization.id == ORG))
    territories, edges = build_territories(communes)
    with runtime.transaction() as session:
        session.execute(insert(Territory), territories)
        session.execute(insert(TerritoryParent), edges)
        session.add(Organization(id=ORG, name="Bench", member=True))
        session.flush()
        session.execute(
            insert(Actor),
            [
                {
                    "id": f"bench-actor-{a}",
                    "name": f"Actor {a}",
                    "territory_code": f"commune:{10000 + (a * 10) % communes:05d}",
                }
                for a in range(actors)
            ],
        )
        dataset, version, table, stored = _first_version(
            session, DATASET, "etalab-2.0", "open", "emissions", COLUMNS
        )
        connection = session.connection()
        # The upload's own path: rows go through the loader, the carbon hook watches them.
        watcher = index_version(session, dataset)
        assert watcher is not None
        with rowstore.loader(connection, table, stored) as loader:
            for chunk in _chunks(raw_rows(communes, years, actors), 100_000):
                first_row = loader.count + 1
                batch = _batch(chunk)
                loader.add(batch)
                watcher.add(batch, first_row)
        rowstore.finish(connection, table)
        version.row_count = loader.count
        rows_done = time.perf_counter()
        out(f"raw rows: {loader.count:,} stored in {rows_done - started:.1f} s")
        watcher.finish(version)
        facts = session.scalar(select(func.count()).select_from(_fact_table()))
        load_steering(session, territories, years)
        out(f"indexed: {facts:,} facts with roll-ups, in {time.perf_counter() - rows_done:.1f} s")
        started = time.perf_counter()
        session.execute(
            insert(Actor),
            [
                {
                    "id": f"bench-secret-{a}",
                    "name": f"Confidential actor {a}",
                    "territory_code": f"commune:{10000 + (a * 7) % communes:05d}",
                }
                for a in range(secret_actors)
            ],
        )
        rows = secret_rows(communes, years, secret_actors)
        _store(session, CONFIDENTIAL, "restricted-stat-1.0", "restricted", rows)
        out(f"confidential data: stored and indexed in {time.perf_counter() - started:.1f} s")
    runtime.close()


def _first_version(
    session: Any, dataset_id: str, licence: str, level: str, kind: str, columns: list[Any]
) -> tuple[Dataset, DatasetVersion, Any, Any]:
    """A synthetic dataset with an empty first version and its rows table, as an upload makes
    them; returns the dataset, the version, the table and its stored column layout."""
    dataset = Dataset(
        id=dataset_id,
        title=dataset_id,
        description="synthetic",
        organization_id=ORG,
        licence_id=licence,
        level=level,
        kind=kind,
        tags=[],
        provenance={},
        current_version=1,
    )
    session.add(dataset)
    session.flush()
    version = DatasetVersion(
        dataset_id=dataset_id,
        number=1,
        storage_key=f"bench-{dataset_id}",
        filename="bench.csv",
        media_type="text/csv",
        format="csv",
        size=0,
        sha256=f"{dataset_id:0<64}"[:64],
        row_count=0,
    )
    session.add(version)
    session.flush()
    version.columns = columns
    stored = rowstore.layout(columns)
    table = rowstore.table(version.id, stored)
    rowstore.create(session.connection(), table)
    return dataset, version, table, stored


def _store(
    session: Any, dataset_id: str, licence: str, level: str, rows: Iterator[dict[str, Any]]
) -> None:
    """Store rows as a dataset's first version and index them through the upload's hook."""
    dataset, version, table, stored = _first_version(
        session, dataset_id, licence, level, "emissions", COLUMNS
    )
    connection = session.connection()
    # The upload's own path: rows go through the loader, the carbon hook watches them.
    watcher = index_version(session, dataset)
    assert watcher is not None
    with rowstore.loader(connection, table, stored) as loader:
        for chunk in _chunks(rows, 100_000):
            first_row = loader.count + 1
            batch = _batch(chunk)
            loader.add(batch)
            watcher.add(batch, first_row)
    rowstore.finish(connection, table)
    version.row_count = loader.count
    watcher.finish(version)


def secret_rows(communes: int, years: int, actors: int) -> Iterator[dict[str, Any]]:
    """Aggregate-only rows (restricted-stat-1.0): each actor's yearly figure in one sector."""
    sectors = ("industry", "tertiary", "agriculture")
    for a in range(actors):
        for year in range(2050 - years + 1, 2051):
            yield {
                "year": year,
                "territory": f"commune:{10000 + (a * 7) % communes:05d}",
                "sector": sectors[a % 3],
                "actor": f"bench-secret-{a}",
                "value": 100.0 + (a * 13 + year) % 400,
                "unit": "tCO2e",
            }


def load_steering(session: Any, territories: list[dict[str, Any]], years: int) -> None:
    """A reference trajectory for every EPCI and the timed scopes, and for each timed scope a
    target (2015 → 0 in 2050) and a plan of twelve actions (absolute and relative)."""
    first = 2050 - years + 1
    codes = [t["code"] for t in territories if t["level"] == "epci"]
    codes += [c for c in SCOPES.values() if c not in codes]
    _dataset, version, table, stored = _first_version(
        session, REFERENCE, "etalab-2.0", "open", "reference_trajectory", REFERENCE_COLUMNS
    )
    connection = session.connection()
    rows = [
        {"year": y, "territory": code, "sector": sector, "value": 1e6 * (2051 - y), "unit": "tCO2e"}
        for code in codes
        for y in range(first, 2051)
        for sector in EMISSION_SECTORS
    ]
    schema = pa.schema(
        [
            ("year", pa.int64()),
            ("territory", pa.string()),
            ("sector", pa.string()),
            ("value", pa.float64()),
            ("unit", pa.string()),
        ]
    )
    with rowstore.loader(connection, table, stored) as loader:
        for chunk in _chunks(iter(rows), 100_000):
            loader.add(pa.RecordBatch.from_pylist(chunk, schema=schema))
    rowstore.finish(connection, table)
    version.row_count = loader.count
    for code in SCOPES.values():
        session.add(Target(territory_code=code, reference_year=first, target_year=2050))
        actions = [
            {
                "id": f"action-{i}",
                "title": f"Action {i}",
                "sector": EMISSION_SECTORS[i % len(EMISSION_SECTORS)],
                "actor": None,
                "start_year": 2026 + i % 5,
                "end_year": 2030 + i % 10,
                "effect": {"kind": "relative", "value": 0.05}
                if i % 2
                else {"kind": "absolute", "value": 1000.0 * (i + 1)},
                "status": "planned",
            }
            for i in range(12)
        ]
        session.add(PlanVersion(territory_code=code, number=1, actions=actions))
    out(f"steering: {loader.count:,} reference rows, a target and a 12-action plan per scope")


REFERENCE_COLUMNS = [
    {"name": "year", "type": "integer"},
    {"name": "territory", "type": "string"},
    {"name": "sector", "type": "string"},
    {"name": "value", "type": "number"},
    {"name": "unit", "type": "string"},
]

COLUMNS = [
    {"name": "year", "type": "integer"},
    {"name": "territory", "type": "string"},
    {"name": "sector", "type": "string"},
    {"name": "actor", "type": "string"},
    {"name": "value", "type": "number"},
    {"name": "unit", "type": "string"},
]


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(
        [{c["name"]: r.get(c["name"]) for c in COLUMNS} for r in rows],
        schema=pa.schema(
            [
                ("year", pa.int64()),
                ("territory", pa.string()),
                ("sector", pa.string()),
                ("actor", pa.string()),
                ("value", pa.float64()),
                ("unit", pa.string()),
            ]
        ),
    )


def _fact_table() -> Any:
    from datahub.db.models import CarbonEmissionFact

    return CarbonEmissionFact


def timings(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    call()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples), p95


def naive(settings: Settings, code: str, sector: str | None) -> Callable[[], Any]:
    runtime = build_runtime(settings)

    def run() -> Any:
        with runtime.transaction() as session:
            scope = sorted(territory_repository.descendants(session, code))
            version_id = session.scalar(
                select(DatasetVersion.id).where(DatasetVersion.dataset_id == DATASET)
            )
            assert version_id is not None
            rows = rowstore.table(version_id, rowstore.layout(COLUMNS))
            year, territory, sect, actor, value = (rows.c[f"c{i}"] for i in range(5))
            query = (
                select(year, sect, func.sum(value))
                .where(territory.in_(scope), actor.is_(None))
                .group_by(year, sect)
            )
            if sector is not None:
                query = query.where(sect == sector)
            return session.execute(query).all()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communes", type=int, default=2000)
    parser.add_argument("--years", type=int, default=36)
    parser.add_argument("--actors", type=int, default=200)
    parser.add_argument(
        "--secret-actors", type=int, default=1000, help="actors of the confidential dataset"
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--naive-repeat", type=int, default=5)
    parser.add_argument("--skip-load", action="store_true", help="reuse the loaded database")
    args = parser.parse_args()
    url = os.environ.get("DATAHUB_DATABASE_URL")
    if not url:
        parser.error("set DATAHUB_DATABASE_URL (PostgreSQL for meaningful figures)")
    settings = Settings(database_url=url)
    migrate.upgrade(url)
    out(f"database: {settings.database_url.split('@')[-1]}")
    out(f"size: {args.communes:,} communes × 8 sectors × {args.years} years + {args.actors} actors")
    out(f"confidential: {args.secret_actors} actors × {args.years} years (restricted-stat-1.0)")
    if not args.skip_load:
        load(settings, args.communes, args.years, args.actors, args.secret_actors)

    runtime = build_runtime(settings)
    if runtime.engine.dialect.name == "postgresql":
        with runtime.engine.begin() as connection:  # committed: fresh planner statistics
            connection.exec_driver_sql("ANALYZE")
    scopes = SCOPES
    out("latency in ms, through the ASGI app (TestClient, anonymous, JSON): p50 / p95")
    out(
        f"{'scope':9} {'territory':>15} {'sector':>15} {'actor':>15} {'naive GROUP BY':>17} "
        f"ratio {'steering':>15}"
    )
    out("(naive = the same scope's GROUP BY in SQL alone, no HTTP: the ratio favours it)")
    out("(steering = the territory with ?scenario=plan&reference=…&to=2030)")
    with TestClient(create_app(runtime=runtime)) as client:

        def get(path: str, **params: Any) -> Callable[[], Any]:
            def call() -> Any:
                response = client.get(path, params=params)
                assert response.status_code == 200, response.text
                return response

            return call

        actor = timings(get("/api/v1/actors/bench-actor-0/trajectory"), args.repeat)
        for name, code in scopes.items():
            territory = timings(get(f"/api/v1/territories/{code}/trajectory"), args.repeat)
            sector = timings(
                get("/api/v1/sectors/industry/trajectory", territory=code), args.repeat
            )
            baseline = timings(naive(settings, code, None), args.naive_repeat)
            steering = timings(
                get(f"/api/v1/territories/{code}/trajectory", **STEERING), args.repeat
            )
            out(
                f"{name:9} {territory[0]:7.1f}/{territory[1]:7.1f} "
                f"{sector[0]:7.1f}/{sector[1]:7.1f} {actor[0]:7.1f}/{actor[1]:7.1f} "
                f"{baseline[0]:8.1f}/{baseline[1]:8.1f} ×{baseline[0] / territory[0]:.1f} "
                f"{steering[0]:7.1f}/{steering[1]:7.1f}"
            )
        confidential(client, scopes, args.repeat)
    runtime.close()


def confidential(client: TestClient, scopes: dict[str, str], repeat: int) -> None:
    """Territory trajectories with the confidential dataset in scope (``basis=actors``, an
    anonymous caller: aggregate use, through statistical secrecy), beside the open data alone
    (``basis=inventory``). The first request after a data change decides secrecy for every
    territory (shown as "first"); the others reuse the decisions."""
    out("with confidential (aggregate-only) data in scope, ms: p50 / p95")
    out(f"{'scope':9} {'open data':>15} {'confidential':>15} {'first':>8}")
    for name, code in scopes.items():
        path = f"/api/v1/territories/{code}/trajectory"

        def get(basis: str, path: str = path) -> Callable[[], Any]:
            def call() -> Any:
                response = client.get(path, params={"basis": basis})
                assert response.status_code == 200, response.text
                return response

            return call

        start = time.perf_counter()
        get("actors")()
        first = (time.perf_counter() - start) * 1000
        open_data = timings(get("inventory"), repeat)
        secret = timings(get("actors"), repeat)
        out(
            f"{name:9} {open_data[0]:7.1f}/{open_data[1]:7.1f} "
            f"{secret[0]:7.1f}/{secret[1]:7.1f} {first:8.1f}"
        )


if __name__ == "__main__":
    main()
