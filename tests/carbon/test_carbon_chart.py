"""The SVG chart renders from a trajectory, without pyplot, concurrently."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

from datahub.carbon.chart import render, render_svg
from datahub.carbon.secrecy import Contribution, apply_secrecy
from datahub.carbon.trajectory import TargetSpec, TrajectoryResult, build_trajectory


def _result() -> TrajectoryResult:
    cells = {
        (year, sector): value * (1 - 0.03 * (year - 2015))
        for year in (2015, 2017, 2018, 2019, 2020)
        for sector, value in {
            "residential": 400e3,
            "road_transport": 500e3,
            "industry": 300e3,
        }.items()
    }
    contributions = [
        Contribution(2019, "industry", "a", 1e3),
        Contribution(2019, "industry", "b", 1e3),
    ]
    return build_trajectory(
        cells,
        {2015: 120e3, 2020: 130e3},
        secrecy=apply_secrecy(contributions, cells),
        target=TargetSpec(2015, 2040),
        interpolate=True,
        sequestration_fill="nearest",
    )


def test_svg_is_well_formed_and_titled() -> None:
    svg = render_svg(_result(), title="Trajectoire test")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert b"<path" in svg
    assert len(svg) > 10_000  # bars, lines and text were drawn


def test_png_preview_and_empty_result() -> None:
    assert render(_result(), fmt="png").startswith(b"\x89PNG")
    assert ET.fromstring(render_svg(TrajectoryResult(series=()))).tag.endswith("svg")


def test_concurrent_rendering_shares_no_state() -> None:
    result = _result()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = list(pool.map(lambda _: render_svg(result), range(8)))
    assert all(ET.fromstring(svg).tag.endswith("svg") for svg in outputs)


def test_rendering_never_imports_pyplot() -> None:
    code = (
        "import sys\n"
        "from datahub.carbon.chart import render_svg\n"
        "from datahub.carbon.trajectory import build_trajectory\n"
        "render_svg(build_trajectory({(2020, 'waste'): 1.0, (2021, 'waste'): 2.0}))\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
