"""Benchmark: upload a generated `emissions` CSV through the HTTP API, on SQLite and PostgreSQL.

For each backend a real `datahub serve` process is started; the file is streamed to
`POST /datasets/{id}/versions`; we print rows/s, wall time and the server's peak resident memory
(VmHWM). In the same run, the baseline for the same file: parse it with pyarrow, then load it
into PostgreSQL with `COPY ... FROM STDIN (FORMAT csv)` into a typed table. Each measure is
repeated (`--repeat`, baseline and API runs interleaved) and the fastest run is kept, so that
a busy machine disturbs the ratio less. Each server first takes a 1,000-row warm-up upload.

    python bench/ingest.py                      # 1,000,000 rows (~50 MB)
    python bench/ingest.py --rows 5000000       # shows that peak memory does not grow with size
    python bench/ingest.py --backends postgres  # one backend only
    python bench/ingest.py --cardinality high   # 140,328 distinct keys instead of 33,768

PostgreSQL: a scratch database is created on DATAHUB_BENCH_PG (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import httpx
import psycopg
import pyarrow.csv as pacsv
from sqlalchemy.engine import make_url

from datahub.vocabulary import EMISSION_SECTORS

SECTORS = list(EMISSION_SECTORS)
PG = os.environ.get("DATAHUB_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


#: Communes of each file: 469 give 36 × 469 × 8 = 33,768 distinct (territory, sector, year)
#: keys; 1,949 give 140,328 (a national file's shape: many territories).
COMMUNES = {"low": 469, "high": 1_949}


def generate(path: Path, rows: int, cardinality: str = "low") -> None:
    rng = random.Random(42)
    communes = [f"commune:{10000 + i:05d}" for i in range(1, COMMUNES[cardinality] + 1)]
    with path.open("w", encoding="utf-8") as out:
        out.write("year,territory,sector,actor,ghg,value,unit\n")
        for i in range(rows):
            out.write(
                f"{1990 + i % 36},{communes[i % len(communes)]},{SECTORS[i % 8]},,CO2e,"
                f"{rng.uniform(0, 5000):.3f},tCO2e\n"
            )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_url(database: str) -> str:
    return make_url(PG).set(database=database).render_as_string(hide_password=False)


def admin_sql(sql: str) -> None:
    with psycopg.connect(
        make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
    ) as conn:
        conn.execute(sql)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_api(backend: str, csv_path: Path, rows: int, workdir: Path) -> dict[str, float]:
    if backend == "sqlite":
        database_url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        admin_sql("DROP DATABASE IF EXISTS datahub_bench_ingest WITH (FORCE)")
        admin_sql("CREATE DATABASE datahub_bench_ingest")
        database_url = pg_url("datahub_bench_ingest")
    env = {
        **os.environ,
        "DATAHUB_DATABASE_URL": database_url,
        "DATAHUB_STORAGE_URL": f"file://{workdir / 'files'}",
        "DATAHUB_MAX_UPLOAD_MB": "4096",
    }
    cli = [sys.executable, "-m", "datahub.cli"]
    subprocess.run(
        [*cli, "orgs", "create", "bench", "--name", "Bench"],
        env=env,
        check=True,
        capture_output=True,
    )
    token = (
        subprocess.run(
            [*cli, "users", "create", "bench@example.org", "--org", "bench", "--role", "producer"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=3600) as http:
            deadline = time.monotonic() + 180  # a busy machine starts the server slowly
            while time.monotonic() < deadline:
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            for dataset in ("warm-up", "bench"):
                http.post(
                    "/datasets",
                    json={
                        "id": dataset,
                        "title": dataset,
                        "licence": "etalab-2.0",
                        "kind": "emissions",
                    },
                ).raise_for_status()
            # One small upload first, as the baseline's process has already imported its
            # libraries: a fresh server pays ~0.15 s on its first upload (pyarrow importing
            # pandas), which is start-up cost, not ingest speed.
            with csv_path.open("rb") as whole:
                head = b"".join(whole.readline() for _ in range(1001))
            http.post(
                "/datasets/warm-up/versions", content=head, headers={"Content-Type": "text/csv"}
            ).raise_for_status()
            idle_mb = peak_rss_mb(server.pid)
            started = time.perf_counter()
            with csv_path.open("rb") as body:
                response = http.post(
                    "/datasets/bench/versions", content=body, headers={"Content-Type": "text/csv"}
                )
            wall = time.perf_counter() - started
            response.raise_for_status()
            assert response.json()["row_count"] == rows, response.text
        return {
            "wall": wall,
            "rows_per_s": rows / wall,
            "peak_mb": peak_rss_mb(server.pid),
            "idle_mb": idle_mb,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
        if backend == "postgres":
            admin_sql("DROP DATABASE IF EXISTS datahub_bench_ingest WITH (FORCE)")


def run_baseline(csv_path: Path, rows: int) -> dict[str, float]:
    """pyarrow parse + PostgreSQL COPY of the same file into a typed table."""
    admin_sql("DROP DATABASE IF EXISTS datahub_bench_baseline WITH (FORCE)")
    admin_sql("CREATE DATABASE datahub_bench_baseline")
    url = make_url(pg_url("datahub_bench_baseline")).set(drivername="postgresql")
    try:
        started = time.perf_counter()
        table = pacsv.read_csv(csv_path)
        parsed = time.perf_counter() - started
        with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
            conn.execute(
                "CREATE TABLE emission (year int, territory text, sector text, "
                "actor text, ghg text, value double precision, unit text)"
            )
            with (
                conn.cursor() as cursor,
                cursor.copy("COPY emission FROM STDIN (FORMAT csv, HEADER true)") as copy,
                csv_path.open("rb") as source,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            conn.commit()
        wall = time.perf_counter() - started
        assert table.num_rows == rows
        return {"wall": wall, "rows_per_s": rows / wall, "parse": parsed}
    finally:
        admin_sql("DROP DATABASE IF EXISTS datahub_bench_baseline WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the fastest counts")
    parser.add_argument(
        "--backends", nargs="+", default=["postgres", "sqlite"], choices=["postgres", "sqlite"]
    )
    parser.add_argument(
        "--cardinality",
        nargs="+",
        default=["low", "high"],
        choices=list(COMMUNES),
        help="low: 33,768 distinct keys; high: 140,328 (each file measured against its baseline)",
    )
    args = parser.parse_args()
    for cardinality in args.cardinality:
        measure(args, cardinality)


def measure(args: argparse.Namespace, cardinality: str) -> None:
    with tempfile.TemporaryDirectory(prefix="datahub-bench-") as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "emissions.csv"
        generate(csv_path, args.rows, cardinality)
        size_mb = csv_path.stat().st_size / 1e6
        keys = math.lcm(36, 8, COMMUNES[cardinality])  # year, sector, commune cycle together
        print(
            f"file: {args.rows:,} rows, {size_mb:.1f} MB, {cardinality} cardinality ({keys:,} keys)"
        )
        baselines: list[dict[str, float]] = []
        runs: dict[str, list[dict[str, float]]] = {backend: [] for backend in args.backends}
        for attempt in range(args.repeat):
            baselines.append(run_baseline(csv_path, args.rows))
            for backend in args.backends:
                runs[backend].append(
                    run_api(backend, csv_path, args.rows, workdir / f"{backend}-{attempt}")
                )
        baseline = min(baselines, key=lambda r: r["wall"])
        print(
            f"baseline  pyarrow parse + PostgreSQL COPY: {baseline['wall']:6.2f} s  "
            f"{baseline['rows_per_s']:>10,.0f} rows/s  (parse {baseline['parse']:.2f} s; "
            f"median of runs {median(r['wall'] for r in baselines):.2f} s)"
        )
        for backend in args.backends:
            result = min(runs[backend], key=lambda r: r["wall"])
            result["peak_mb"] = max(r["peak_mb"] for r in runs[backend])
            ratio = result["rows_per_s"] / baseline["rows_per_s"]
            print(
                f"API → {backend:<8}                          : {result['wall']:6.2f} s  "
                f"{result['rows_per_s']:>10,.0f} rows/s  ratio {ratio:.2f} of baseline  "
                f"server peak RSS {result['peak_mb']:.0f} MB (idle {result['idle_mb']:.0f} MB); "
                f"median of runs {median(r['wall'] for r in runs[backend]):.2f} s"
            )


if __name__ == "__main__":
    main()
