"""Load test: concurrent clients against `datahub serve --workers 2` on PostgreSQL, over loopback.

    python bench/load.py                                  # 50 clients for 60 s, 2 workers
    python bench/load.py --clients 20 --seconds 30 --workers 4

A scratch database (``bench_load_<random>``, with PostGIS) is created on DATAHUB_BENCH_PG
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) with a storage folder of its own;
the organisations and tokens come from ``datahub orgs create`` / ``datahub users create``, the
territories, actors and carbon datasets from ``datahub demo``. The server runs as a subprocess on
a free port. Each client (its own httpx connection) loops over a weighted mix of catalogue reads
(list, search, get, DCAT), row queries (filters, JSON and CSV), trajectories (territory, sector,
actor; JSON and SVG) and uploads (new versions of small ``emissions`` CSVs, new datasets), as an
analyst of a member organisation, anonymously, or as the producer. After a warm-up, the same mix
is run by one client (the baseline), then by all clients; ``GET /health`` by all clients gives
the server's ceiling for a trivial request. Any transport error or unexpected status is an error.
Afterwards every accepted upload is read back through the API (its version's row count and its
rows, compared with what was sent) and the audit chain is verified.

Rate limits stay on but are raised to RATE_LIMIT per minute for tokens and client addresses:
the bench is authenticated traffic from one IP, which the defaults (1,200 per token, 600 per
anonymous IP, per worker with ``memory://``) would throttle. The database and server are removed
at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.engine import make_url

from datahub.vocabulary import EMISSION_SECTORS

PG = os.environ.get("DATAHUB_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
API = "/api/v1"
RATE_LIMIT = 100_000
EPCI = "epci:241700434"
INVENTORY = "demo-inventaire-ges-la-rochelle"
ACTORS = ["demo-site-chef-de-baie", "demo-site-perigny", "demo-site-aytre", "demo-site-lagord"]
SECTORS = list(EMISSION_SECTORS)
LICENCES = ["etalab-2.0", "shared-charter-1.0"]  # upload datasets alternate open / shared
err = Console(stderr=True)


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- the instance ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def admin_sql(sql: str, database: str | None = None) -> None:
    url = make_url(PG).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    with psycopg.connect(
        url.render_as_string(hide_password=False),
        autocommit=True,
        options="-c statement_timeout=60s",  # a DROP waits on every backend of the server
    ) as conn:
        conn.execute(sql.encode())


@dataclass
class Tokens:
    producer: str
    analyst: str
    admin: str


class Instance:
    """A scratch database, a storage folder and `datahub serve` on a free port."""

    def __init__(self, workdir: Path, workers: int) -> None:
        self.database = f"bench_load_{secrets.token_hex(4)}"
        self.log = workdir / "server.log"
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}{API}"
        self.server: subprocess.Popen[bytes] | None = None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAHUB_", "PROMETHEUS_"))}
        env.update(
            DATAHUB_DATABASE_URL=make_url(PG)
            .set(database=self.database)
            .render_as_string(hide_password=False),
            DATAHUB_STORAGE_URL=f"file://{workdir / 'files'}",
            DATAHUB_RATE_LIMIT_ENABLED="true",
            DATAHUB_RATE_LIMIT_PER_MINUTE_TOKEN=str(RATE_LIMIT),
            DATAHUB_RATE_LIMIT_PER_MINUTE_ANONYMOUS=str(RATE_LIMIT),
        )
        self.env = env

    def create_database(self) -> None:
        admin_sql(f'CREATE DATABASE "{self.database}"')
        admin_sql("CREATE EXTENSION postgis", database=self.database)

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "datahub.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"datahub {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def token(self, email: str, org: str, role: str) -> str:
        return self.cli("users", "create", email, "--org", org, "--role", role).splitlines()[-1]

    def set_up_accounts(self) -> Tokens:
        self.cli("orgs", "create", "bench", "--name", "Bench producer", "--member")
        self.cli("orgs", "create", "bench-readers", "--name", "Bench readers", "--member")
        return Tokens(
            producer=self.token("producer@bench.example.org", "bench", "producer"),
            analyst=self.token("analyst@readers.example.org", "bench-readers", "analyst"),
            admin=self.token("admin@bench.example.org", "bench", "admin"),
        )

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.server = subprocess.Popen(
                [sys.executable, "-m", "datahub.cli", "serve", "--port", str(self.port)]
                + ["--workers", str(self.workers)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the bench, which stops it in order
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError("server not ready after 120 s")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and its worker processes (Linux /proc)."""
        assert self.server is not None
        pids, total = [self.server.pid], 0.0
        while pids:
            pid = pids.pop()
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            pids += [int(child) for child in children]
        return total

    def server_errors(self) -> list[str]:
        """Tracebacks and error lines the server logged."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if "Traceback" in line or " ERROR " in line]

    def close(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        try:
            admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        except psycopg.Error as exc:
            err.print(f"[red]database {self.database} left behind[/red]: {exc}")


# --- the traffic -------------------------------------------------------------------------------


@dataclass
class Upload:
    dataset: str
    number: int
    rows: list[tuple[int, str, str, float]]


@dataclass
class World:
    """What the clients know of the instance; grows as uploads are accepted."""

    tokens: Tokens
    communes: list[str]
    open_datasets: list[str]  # readable by anyone, with a current version
    shared_datasets: list[str]  # readable by members, with a current version
    pool: list[str]  # datasets that get new versions under load
    uploads: list[Upload] = field(default_factory=list)
    sequence: int = 0

    def next_id(self) -> int:
        self.sequence += 1
        return self.sequence


@dataclass
class Recorder:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    #: The same requests' latencies again, for those the server answered from its result cache
    #: (``X-Cache: hit``); not counted twice.
    hits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, kind: str, seconds: float, hit: bool = False) -> None:
        self.latencies[kind].append(seconds * 1000)
        if hit:
            self.hits[kind].append(seconds * 1000)
        self.count += 1

    def fail(self, kind: str, detail: str) -> None:
        self.errors.append(f"{kind}: {detail}")
        self.count += 1


class Client:
    """One simulated user: its own connection, a random generator, a recorder."""

    def __init__(self, http: httpx.AsyncClient, world: World, rng: random.Random) -> None:
        self.http = http
        self.world = world
        self.rng = rng
        self.recorder = Recorder()

    async def call(
        self, kind: str, method: str, url: str, expected: int = 200, **kwargs: Any
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.recorder.fail(kind, f"{method} {url}: {type(exc).__name__} {exc}")
            return None
        if response.status_code != expected:
            self.recorder.fail(
                kind, f"{method} {url}: {response.status_code} {response.text[:300]!r}"
            )
            return None
        hit = response.headers.get("x-cache") == "hit"
        self.recorder.add(kind, time.perf_counter() - started, hit)
        return response

    def reader(self) -> tuple[dict[str, str], list[str]]:
        """An analyst of a member organisation (2/3) or an anonymous caller, and what it reads."""
        if self.rng.random() < 2 / 3:
            return _bearer(self.world.tokens.analyst), (
                self.world.open_datasets + self.world.shared_datasets
            )
        return {}, self.world.open_datasets

    async def catalogue_list(self) -> None:
        headers, _ = self.reader()
        page = self.rng.randint(1, 3)
        await self.call(
            "catalogue.list", "GET", f"/datasets?page={page}&page_size=20", headers=headers
        )

    async def catalogue_search(self) -> None:
        headers, _ = self.reader()
        query = self.rng.choice(["q=émissions", "q=bench&kind=emissions", "level=open&q=sols"])
        await self.call("catalogue.search", "GET", f"/datasets?{query}", headers=headers)

    async def catalogue_get(self) -> None:
        headers, readable = self.reader()
        await self.call(
            "catalogue.get", "GET", f"/datasets/{self.rng.choice(readable)}", headers=headers
        )

    async def catalogue_dcat(self) -> None:
        headers, _ = self.reader()
        await self.call("catalogue.dcat", "GET", "/catalog/dcat", headers=headers)

    async def rows_json(self) -> None:
        headers, readable = self.reader()
        sectors = ",".join(self.rng.sample(SECTORS, 3))
        params = (
            f"sector__in={sectors}&year__greater={self.rng.randint(2011, 2020)}"
            f"&sort=-value&page_size=100"
        )
        dataset = self.rng.choice(readable)
        await self.call("rows.json", "GET", f"/datasets/{dataset}/data?{params}", headers=headers)

    async def rows_csv(self) -> None:
        headers, readable = self.reader()
        territories = ",".join(self.rng.sample(self.world.communes, 4))
        dialect = self.rng.choice(["default", "fr"])
        params = f"territory__in={territories}&format=csv&dialect={dialect}"
        dataset = self.rng.choice(readable)
        await self.call("rows.csv", "GET", f"/datasets/{dataset}/data?{params}", headers=headers)

    async def trajectory_territory(self) -> None:
        headers, _ = self.reader()
        code = EPCI if self.rng.random() < 0.5 else self.rng.choice(self.world.communes)
        await self.call(
            "trajectory.territory", "GET", f"/territories/{code}/trajectory", headers=headers
        )

    async def trajectory_svg(self) -> None:
        headers, _ = self.reader()
        await self.call(
            "trajectory.territory.svg",
            "GET",
            f"/territories/{EPCI}/trajectory?format=svg",
            headers=headers,
        )

    async def trajectory_sector(self) -> None:
        headers, _ = self.reader()
        sector, code = self.rng.choice(SECTORS), self.rng.choice([EPCI, *self.world.communes])
        await self.call(
            "trajectory.sector",
            "GET",
            f"/sectors/{sector}/trajectory?territory={code}",
            headers=headers,
        )

    async def trajectory_actor(self) -> None:
        headers, _ = self.reader()
        suffix = "?format=svg" if self.rng.random() < 0.3 else ""
        await self.call(
            "trajectory.actor",
            "GET",
            f"/actors/{self.rng.choice(ACTORS)}/trajectory{suffix}",
            headers=headers,
        )

    async def upload(self, kind: str, dataset: str) -> bool:
        rows = emission_rows(self.rng, self.world.communes, self.rng.randint(20, 200))
        response = await self.call(
            kind,
            "POST",
            f"/datasets/{dataset}/versions",
            expected=201,
            content=emissions_csv(rows),
            headers={**_bearer(self.world.tokens.producer), "Content-Type": "text/csv"},
        )
        if response is None:
            return False
        self.world.uploads.append(Upload(dataset, int(response.json()["number"]), rows))
        return True

    async def upload_version(self) -> None:
        await self.upload("upload.version", self.rng.choice(self.world.pool))

    async def upload_dataset(self) -> None:
        dataset = f"bench-new-{self.world.next_id()}"
        licence = self.rng.choice(LICENCES)
        created = await self.call(
            "dataset.create",
            "POST",
            "/datasets",
            expected=201,
            json=dataset_body(dataset, licence, self.world.communes),
            headers=_bearer(self.world.tokens.producer),
        )
        if created is not None and await self.upload("upload.new", dataset):
            readable = self.world.open_datasets if licence == LICENCES[0] else None
            (readable if readable is not None else self.world.shared_datasets).append(dataset)


Operation = Callable[[Client], Awaitable[None]]
MIX: list[tuple[Operation, int]] = [
    (Client.catalogue_list, 6),
    (Client.catalogue_search, 5),
    (Client.catalogue_get, 6),
    (Client.catalogue_dcat, 3),
    (Client.rows_json, 10),
    (Client.rows_csv, 6),
    (Client.trajectory_territory, 7),
    (Client.trajectory_svg, 3),
    (Client.trajectory_sector, 5),
    (Client.trajectory_actor, 4),
    (Client.upload_version, 5),
    (Client.upload_dataset, 1),
]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def emission_rows(
    rng: random.Random, communes: list[str], count: int
) -> list[tuple[int, str, str, float]]:
    return [
        (
            rng.randint(2012, 2022),
            rng.choice(communes),
            rng.choice(SECTORS),
            rng.randint(0, 10**7) / 1000,
        )
        for _ in range(count)
    ]


def emissions_csv(rows: list[tuple[int, str, str, float]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["year", "territory", "sector", "value", "unit"])
    writer.writerows([*row, "tCO2e"] for row in rows)
    return text.getvalue().encode("utf-8")


def dataset_body(dataset: str, licence: str, communes: list[str]) -> dict[str, Any]:
    return {
        "id": dataset,
        "title": f"Bench emissions {dataset}",
        "description": "Synthetic emissions uploaded by bench/load.py.",
        "licence": licence,
        "kind": "emissions",
        "tags": ["bench"],
        "territories": communes[:5],
    }


async def run_clients(
    world: World,
    base: str,
    clients: int,
    seconds: float,
    mix: list[tuple[Operation, int]],
    label: str,
    seed: int,
) -> tuple[Recorder, float]:
    """``clients`` loops over ``mix`` until ``seconds`` have passed; one merged recorder."""
    operations, weights = zip(*mix, strict=True)
    progress = Progress(
        TextColumn(f"{label:<24}"),
        BarColumn(),
        TextColumn("{task.fields[done]:>7,} requests  {task.fields[errors]} errors"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    sessions = [
        Client(
            httpx.AsyncClient(base_url=base, timeout=120, limits=limits),
            world,
            random.Random(seed * 1000 + i),
        )
        for i in range(clients)
    ]
    started = time.perf_counter()
    deadline = started + seconds

    async def loop(client: Client) -> None:
        while time.perf_counter() < deadline:
            await client.rng.choices(operations, weights)[0](client)

    def tally() -> tuple[int, int]:
        return sum(c.recorder.count for c in sessions), sum(
            len(c.recorder.errors) for c in sessions
        )

    try:
        with progress:
            task = progress.add_task(label, total=seconds, done=0, errors=0)
            running = asyncio.gather(*(loop(c) for c in sessions))
            while not running.done():
                await asyncio.wait([running], timeout=0.5)
                done, errors = tally()
                elapsed = min(seconds, time.perf_counter() - started)
                progress.update(task, completed=elapsed, done=done, errors=errors)
            await running
    finally:
        await asyncio.gather(*(c.http.aclose() for c in sessions))
    wall = time.perf_counter() - started
    merged = Recorder()
    for client in sessions:
        for kind, values in client.recorder.latencies.items():
            merged.latencies[kind] += values
        for kind, values in client.recorder.hits.items():
            merged.hits[kind] += values
        merged.errors += client.recorder.errors
        merged.count += client.recorder.count
    return merged, wall


async def health(client: Client) -> None:
    await client.call("health", "GET", "/health")


# --- set-up and checks -------------------------------------------------------------------------


def set_up_world(base: str, tokens: Tokens, pool_size: int, rng: random.Random) -> World:
    with httpx.Client(base_url=base, timeout=120) as http:
        listed = http.get(f"/territories?parent={EPCI}&level=commune&page_size=100")
        listed.raise_for_status()
        communes = [t["code"] for t in listed.json()["data"]]
        assert communes, "datahub demo loaded no communes"
        world = World(tokens, communes, [INVENTORY], [], [])
        for i in range(pool_size):
            dataset, licence = f"bench-pool-{i}", LICENCES[i % 2]
            http.post(
                "/datasets",
                json=dataset_body(dataset, licence, communes),
                headers=_bearer(tokens.producer),
            ).raise_for_status()
            rows = emission_rows(rng, communes, 100)
            sent = http.post(
                f"/datasets/{dataset}/versions",
                content=emissions_csv(rows),
                headers={**_bearer(tokens.producer), "Content-Type": "text/csv"},
            )
            sent.raise_for_status()
            world.uploads.append(Upload(dataset, int(sent.json()["number"]), rows))
            world.pool.append(dataset)
            (world.open_datasets if licence == LICENCES[0] else world.shared_datasets).append(
                dataset
            )
    return world


def read_back(csv_text: str) -> list[tuple[int, str, str, float]]:
    records = csv.DictReader(io.StringIO(csv_text))
    return sorted(
        (int(r["year"]), r["territory"], r["sector"], round(float(r["value"]), 3)) for r in records
    )


async def verify_uploads(base: str, world: World) -> list[str]:
    """Every accepted version is listed with the row count sent, and holds exactly those rows."""
    problems: list[str] = []
    by_dataset: dict[str, dict[int, Upload]] = defaultdict(dict)
    for upload in world.uploads:
        by_dataset[upload.dataset][upload.number] = upload
    headers = _bearer(world.tokens.producer)
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=base, timeout=120, headers=headers) as http:

        async def check_dataset(dataset: str, accepted: dict[int, Upload]) -> None:
            async with gate:
                listed = (await http.get(f"/datasets/{dataset}/versions")).json()["data"]
            counts = {int(v["number"]): int(v["row_count"]) for v in listed}
            if set(counts) != set(accepted):
                problems.append(
                    f"{dataset}: versions {sorted(counts)} but accepted {sorted(accepted)}"
                )
            for number, upload in accepted.items():
                if counts.get(number) != len(upload.rows):
                    sent = len(upload.rows)
                    problems.append(
                        f"{dataset} v{number}: row_count {counts.get(number)}, sent {sent}"
                    )
                async with gate:
                    got = await http.get(f"/datasets/{dataset}/data?version={number}&format=csv")
                if got.status_code != 200 or read_back(got.text) != sorted(upload.rows):
                    problems.append(f"{dataset} v{number}: rows read back differ from those sent")

        await asyncio.gather(*(check_dataset(d, a) for d, a in by_dataset.items()))
    return problems


# --- report ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def summary(values: list[float]) -> str:
    if not values:
        return f"{'—':>8} {'—':>8} {'—':>8}"
    return " ".join(f"{percentile(values, q):8.1f}" for q in (50, 95, 99))


def report(load: Recorder, wall: float, baseline: Recorder) -> None:
    everything = [v for values in load.latencies.values() for v in values]
    base_all = [v for values in baseline.latencies.values() for v in values]
    out(f"\n{'kind':<26} {'requests':>8} {'req/s':>7}   p50 ms   p95 ms   p99 ms  │ 1 client p50")
    for kind in sorted(load.latencies):
        values = load.latencies[kind]
        base_values = baseline.latencies.get(kind, [])
        base_p50 = f"{percentile(base_values, 50):8.1f}" if base_values else f"{'—':>8}"
        out(
            f"{kind:<26} {len(values):>8,} {len(values) / wall:>7.1f} {summary(values)}  │"
            f" {base_p50}"
        )
    out(
        f"{'all':<26} {len(everything):>8,} {len(everything) / wall:>7.1f} {summary(everything)}"
        f"  │ {percentile(base_all, 50) if base_all else float('nan'):8.1f}"
    )
    if load.hits:
        out("\nanswered from the result cache (X-Cache: hit), the same requests again:")
        for kind in sorted(load.hits):
            values, base_hits = load.hits[kind], baseline.hits.get(kind, [])
            base_p50 = f"{percentile(base_hits, 50):8.1f}" if base_hits else f"{'—':>8}"
            share = len(values) / len(load.latencies[kind])
            out(
                f"{kind + ' (hit)':<26} {len(values):>8,} {share:>6.0%}  {summary(values)}"
                f"  │ {base_p50}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2, help="`datahub serve --workers`")
    parser.add_argument("--warmup", type=float, default=5, help="seconds, all clients, not counted")
    parser.add_argument("--baseline-seconds", type=float, default=15, help="the mix by 1 client")
    parser.add_argument("--health-seconds", type=float, default=5, help="GET /health, all clients")
    parser.add_argument("--pool", type=int, default=8, help="datasets getting new versions")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as on Ctrl-C

    workdir = Path(tempfile.mkdtemp(prefix="datahub-bench-load-"))
    instance = Instance(workdir, args.workers)
    failed = False
    try:
        instance.create_database()
        with step(f"database {instance.database}, accounts, datahub demo"):
            tokens = instance.set_up_accounts()
            instance.cli("demo")
        with step(f"datahub serve --workers {args.workers} on port {instance.port}"):
            instance.start()
        rng = random.Random(args.seed)
        with step(f"{args.pool} upload datasets"):
            world = set_up_world(instance.base, tokens, args.pool, rng)
        failed = asyncio.run(run(args, instance, world))
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/yellow]: cleaning up")
        failed = True
    finally:
        if failed and instance.log.exists():
            kept = Path(tempfile.gettempdir()) / f"{instance.database}-server.log"
            shutil.copy(instance.log, kept)
            err.print(f"server log kept at {kept}")
        with step("stopping the server, dropping the database"):
            instance.close()
            shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if failed else 0)


@contextmanager
def step(what: str) -> Iterator[None]:
    started = time.perf_counter()
    with err.status(what):
        yield
    err.print(f"{what}: {time.perf_counter() - started:.1f} s")


async def run(args: argparse.Namespace, instance: Instance, world: World) -> bool:
    base = instance.base
    warm, _ = await run_clients(world, base, args.clients, args.warmup, MIX, "warm-up", 1)
    baseline, base_wall = await run_clients(
        world, base, 1, args.baseline_seconds, MIX, "baseline: 1 client", 2
    )
    server_cpu, client_cpu = instance.cpu_seconds(), time.process_time()
    load, wall = await run_clients(
        world, base, args.clients, args.seconds, MIX, f"load: {args.clients} clients", 3
    )
    server_cpu, client_cpu = (
        instance.cpu_seconds() - server_cpu,
        time.process_time() - client_cpu,
    )
    ceiling, ceiling_wall = await run_clients(
        world, base, args.clients, args.health_seconds, [(health, 1)], "GET /health", 4
    )
    with step(f"reading back {len(world.uploads)} accepted uploads"):
        lost = await verify_uploads(base, world)
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        audit = await http.get("/audit/verify", headers=_bearer(world.tokens.admin))

    rate, base_rate = load.count / wall, baseline.count / base_wall
    health_rate = ceiling.count / ceiling_wall
    out(
        f"datahub serve --workers {args.workers}, PostgreSQL, loopback; the clients run on the "
        f"same host ({os.cpu_count()} cores); rate limits raised to {RATE_LIMIT:,}/min"
    )
    out(
        f"load: {args.clients} clients × {wall:.0f} s: {load.count:,} requests, "
        f"{rate:.1f} req/s, {len(load.errors)} errors"
    )
    out(
        f"CPU during the load: server {server_cpu / wall:.2f} cores, clients "
        f"{client_cpu / wall:.2f} cores, of {os.cpu_count()} (the rest: PostgreSQL, other work; "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    out(
        f"baseline, same mix by 1 client × {base_wall:.0f} s: {baseline.count:,} requests, "
        f"{base_rate:.1f} req/s, {len(baseline.errors)} errors"
    )
    out(
        f"throughput ratio {args.clients} clients / 1 client: ×{rate / base_rate:.2f}; "
        f"GET /health by {args.clients} clients: {health_rate:.0f} req/s "
        f"(the mix reaches {rate / health_rate:.2f} of it)"
    )
    report(load, wall, baseline)
    accepted = len(load.latencies["upload.version"]) + len(load.latencies["upload.new"])
    rows = sum(len(u.rows) for u in world.uploads)
    out(
        f"\nuploads accepted during the load: {accepted}; in all (set-up, warm-up, baseline, "
        f"load): {len(world.uploads)} versions, {rows:,} rows; read back through the API: "
        f"{'every row there' if not lost else f'{len(lost)} problems'}"
    )
    chain = audit.json() if audit.status_code == 200 else {}
    out(f"audit chain: {audit.status_code} {chain or audit.text[:200]}")
    errors = warm.errors + baseline.errors + load.errors + ceiling.errors
    for line in errors[:20] + lost[:20]:
        out(f"  ✗ {line}")
    server_errors = instance.server_errors()
    if server_errors:
        out(f"server logged {len(server_errors)} error line(s), first: {server_errors[0][:300]}")
    return bool(errors or lost or server_errors or not chain.get("valid"))


if __name__ == "__main__":
    main()
