"""Web pages on the demo: server time, weight, requests, DOM size and EcoIndex of each page.

    python bench/web.py                 # 30 timed requests per page, SQLite demo in a temp folder
    python bench/web.py --runs 100

Server time: each page requested in-process through the ASGI app (no network), p50/p95.
Browser figures: Debian's Chromium driven by Playwright against a uvicorn on a loopback port —
bytes transferred (``transferSize`` of the navigation and every resource) and request count on a
first load (empty cache) and a second load (same browser context, cache warm), DOM element count.
EcoIndex: the published formula (ecoindex.fr: quantiles of DOM nodes, requests and KB weighted
3:2:1, score = 100 - 5 x mean quantile), computed here; the ``ecoindex-compute`` package gives the
same score (84 for 300 nodes, 5 requests, 100 KB) but its licence (CC BY-NC-ND) keeps it out.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from bisect import bisect_right
from typing import Any

import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

from datahub.app import create_app
from datahub.db import migrate
from datahub.demo.loader import EPCI, load_demo
from datahub.demo.outlines import load_outlines
from datahub.runtime import build_runtime
from datahub.settings import Settings

PAGES = {
    "/": "accueil",
    "/datasets": "catalogue",
    "/datasets?q=inventaire": "recherche",
    "/datasets/demo-inventaire-ges-la-rochelle": "jeu de données",
    f"/territories/{EPCI}": "tableau de bord",
    f"/sectors/road_transport?territory={EPCI}": "secteur",
    "/login": "connexion",
}
DOM_Q = [0, 47, 75, 159, 233, 298, 358, 417, 476, 537, 603, 674, 753, 843, 949, 1076, 1237,
         1459, 1801, 2479, 594601]  # fmt: skip
REQ_Q = [0, 2, 15, 25, 34, 42, 49, 56, 63, 70, 78, 86, 95, 105, 117, 130, 147, 170, 205, 281,
         3920]  # fmt: skip
KB_Q = [0, 1.37, 144.7, 319.53, 479.46, 631.97, 783.38, 937.91, 1098.62, 1265.47, 1448.32,
        1648.27, 1876.08, 2142.06, 2465.37, 2866.31, 3401.59, 4155.73, 5400.08, 8037.54,
        223212.26]  # fmt: skip
GRADES = ((80, "A"), (70, "B"), (55, "C"), (40, "D"), (25, "E"), (10, "F"))
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


def _quantile(table: list[float], value: float) -> float:
    i = min(bisect_right(table, value), len(table) - 1)
    low, high = table[i - 1], table[i]
    return i - 1 + (value - low) / (high - low)


def ecoindex(nodes: int, requests: int, kilobytes: float) -> tuple[float, str]:
    mean = (
        3 * _quantile(DOM_Q, nodes) + 2 * _quantile(REQ_Q, requests) + _quantile(KB_Q, kilobytes)
    ) / 6
    score = max(0.0, 100 - 5 * mean)
    grade = next((g for limit, g in GRADES if score > limit), "G")
    return round(score), grade


def server_times(client: TestClient, path: str, runs: int) -> tuple[float, float]:
    client.get(path)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


LOAD_FIGURES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  return {bytes: nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0),
          requests: 1 + res.length, dom: document.getElementsByTagName('*').length};
}"""


def browser_figures(base: str) -> dict[str, dict[str, Any]]:
    found = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for path in PAGES:
            context = browser.new_context()
            page = context.new_page()
            page.goto(base + path, wait_until="load")
            first = page.evaluate(LOAD_FIGURES)
            page.goto(base + path, wait_until="load")
            second = page.evaluate(LOAD_FIGURES)
            found[path] = {"first": first, "second": second}
            context.close()
        browser.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="datahub-bench-web-") as folder:
        settings = Settings(
            database_url=f"sqlite:///{folder}/bench.db",
            storage_url=f"file://{folder}/files",
            secret_key="bench",  # type: ignore[arg-type]
            rate_limit_enabled=False,
            _env_file=None,  # type: ignore[call-arg]
        )
        migrate.upgrade(settings.database_url)
        runtime = build_runtime(settings)
        load_demo(runtime)
        outlines = load_outlines(runtime)  # as `datahub demo`: the map needs the network once
        print(
            f"{len(outlines.loaded)} outline(s) loaded"
            + (f" ({outlines.error})" if outlines.error else "")
        )
        app = create_app(runtime=runtime)
        with TestClient(app) as client:
            times = {path: server_times(client, path, args.runs) for path in PAGES}
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        figures = browser_figures(f"http://127.0.0.1:{port}")
        server.should_exit = True
        thread.join(timeout=10)
        runtime.close()
    print("| page | server p50 / p95 (ms) | 1st load: KB, requests | 2nd load: KB, requests "
          "| DOM | EcoIndex |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for path, name in PAGES.items():
        p50, p95 = times[path]
        first, second = figures[path]["first"], figures[path]["second"]
        kilobytes = first["bytes"] / 1024
        score, grade = ecoindex(first["dom"], first["requests"], kilobytes)
        print(
            f"| {name} `{path}` | {p50:.0f} / {p95:.0f} | {kilobytes:.1f}, {first['requests']} "
            f"| {second['bytes'] / 1024:.1f}, {second['requests']} | {first['dom']} "
            f"| {score} {grade} |"
        )


if __name__ == "__main__":
    main()
