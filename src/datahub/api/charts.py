"""Charts (SVG, PNG) rendered in processes of their own, beside each API worker.

matplotlib is pure CPU under the GIL (~0.2 s a chart): rendered in a request's thread it stalls
every other request of the worker for that long. A small process pool (``spawn``: no fork of a
threaded server) takes it out of the worker's interpreter; with the result cache, a chart is
rendered once per scope, view and data version.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Literal

from datahub.carbon.chart import Captions, render
from datahub.carbon.plan_schemas import ScenarioOut
from datahub.carbon.trajectory import TrajectoryResult


class ChartRenderer:
    """Renders in ``processes`` processes, started on first use; 0: in the calling thread."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def render(
        self,
        result: TrajectoryResult,
        *,
        subtitle: str,
        captions: Captions | None = None,
        fmt: Literal["svg", "png"] = "svg",
        scenario: ScenarioOut | None = None,
    ) -> bytes:
        """The chart (:func:`datahub.carbon.chart.render`), drawn in a process of the pool."""
        call = partial(
            render, result, subtitle=subtitle, captions=captions, fmt=fmt, scenario=scenario
        )
        if self.processes == 0:
            return call()
        return self._executor().submit(call).result()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn")
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
