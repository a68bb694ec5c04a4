"""The demo territory loaded once per test, for the interoperability tests that read a real
catalogue (datasets of every kind and licence level, territories, trajectories).

The demo ships no outlines, so ``mapped_demo`` gives its territories synthetic ones: the 28
communes as squares of 0.02° on a grid west of La Rochelle's real position (La Rochelle itself,
``commune:17300``, is the square around -1.15, 46.16), the EPCI and the larger territories as
the box around them all. Shapes are made up; codes, names and figures are the demo's.
"""

from __future__ import annotations

import pytest

from datahub.demo.loader import EPCI, load_demo
from datahub.runtime import Runtime
from datahub.territories import service as territories
from datahub.territories.schemas import TerritoryCreate

SIDE = 0.02
ORIGIN = (-1.24, 46.10)  # south-west corner of the grid


def _square(west: float, south: float, side: float = SIDE) -> dict[str, object]:
    east, north = west + side, south + side
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def demo(runtime: Runtime) -> Runtime:
    load_demo(runtime)
    return runtime


@pytest.fixture
def mapped_demo(demo: Runtime) -> Runtime:
    with demo.transaction() as session:
        reads, _total, rows = territories.list_window(
            session, level=None, parent=None, bbox=None, offset=0, limit=1000
        )
        communes = sorted(
            r.code for r in reads if r.level == "commune" and r.code != "commune:17300"
        )
        places = {"commune:17300": _square(-1.16, 46.15)}
        for index, code in enumerate(communes):
            row, column = divmod(index, 6)
            places[code] = _square(ORIGIN[0] + column * SIDE, ORIGIN[1] + row * SIDE)
        whole = _square(ORIGIN[0], ORIGIN[1], side=0.2)
        for read, row in zip(reads, rows, strict=True):
            geometry = places.get(read.code, whole)
            territories.upsert(
                session,
                TerritoryCreate(
                    code=read.code,
                    name=read.name,
                    level=read.level,  # type: ignore[arg-type]
                    parent=read.parents,
                    population=row.population,
                    geometry=geometry,
                ),
                replace=True,
            )
    assert EPCI
    return demo
