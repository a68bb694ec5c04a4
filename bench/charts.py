"""Benchmark: SVG charts rendered in the request's thread or in a process of their own.

    python bench/charts.py               # 20 charts each way
    python bench/charts.py --charts 50

A chart of 8 sectors × 36 years with sequestration, a target path and a projection is rendered
``--charts`` times by a thread of this process, while the main thread runs a probe: a 1 ms
pure-Python task, again and again, as the other requests of an API worker would. Then the same
with ``datahub.api.charts.ChartRenderer(1)`` (a spawned process; its start-up is not counted).
Printed: ms per chart, and the probe's p50 / p95 / max latency — how long the chart keeps the
worker's other requests waiting for the interpreter (GIL).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

from datahub.api.charts import ChartRenderer
from datahub.carbon.sectors import SECTORS
from datahub.carbon.trajectory import TargetSpec, TrajectoryResult, build_trajectory


def sample() -> TrajectoryResult:
    cells = {
        (year, sector): 1000.0 * (i + 1) * (1 - (year - 1990) / 80)
        for year in range(1990, 2026)
        for i, sector in enumerate(SECTORS)
    }
    sequestration = dict.fromkeys(range(1990, 2026), 3000.0)
    return build_trajectory(cells, sequestration, target=TargetSpec(2019, 2050, 0.0, "linear"))


def probe_until(done: threading.Event) -> list[float]:
    """Latencies (ms) of a 1 ms CPU task run back to back until ``done``."""
    latencies = []
    while not done.is_set():
        started = time.perf_counter()
        deadline = started + 0.001
        while time.perf_counter() < deadline:
            pass
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def measure(renderer: ChartRenderer, result: TrajectoryResult, charts: int) -> None:
    renderer.render(result, "warm-up")  # imports matplotlib / starts the process
    done = threading.Event()
    per_chart: list[float] = []

    def render_all() -> None:
        for _ in range(charts):
            started = time.perf_counter()
            renderer.render(result, "bench")
            per_chart.append((time.perf_counter() - started) * 1000)
        done.set()

    worker = threading.Thread(target=render_all)
    worker.start()
    latencies = probe_until(done)
    worker.join()
    where = "in the thread" if renderer.processes == 0 else "in a process"
    p95 = statistics.quantiles(latencies, n=20)[-1]
    sys.stdout.write(
        f"{where:<14} {statistics.median(per_chart):7.1f} ms/chart (median)   probe of 1 ms: "
        f"p50 {statistics.median(latencies):6.2f}  p95 {p95:6.2f}  max {max(latencies):7.1f} ms\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--charts", type=int, default=20)
    args = parser.parse_args()
    result = sample()
    for processes in (0, 1):
        renderer = ChartRenderer(processes)
        try:
            measure(renderer, result, args.charts)
        finally:
            renderer.close()


if __name__ == "__main__":
    main()
