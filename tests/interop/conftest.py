"""The demo territory loaded once per test, for the interoperability tests that read a real
catalogue (datasets of every kind and licence level, territories with geometries, trajectories)."""

from __future__ import annotations

import pytest

from datahub.demo.loader import load_demo
from datahub.runtime import Runtime


@pytest.fixture
def demo(runtime: Runtime) -> Runtime:
    load_demo(runtime)
    return runtime
