"""Trajectory maths: target paths, gap, projection, interpolation, climate correction.

Expected values are the worked examples of research/carbon.md §4, recomputed in the comments.
"""

from __future__ import annotations

import csv

import pytest

from datahub.carbon.budget import compound_rate
from datahub.carbon.trajectory import (
    Point,
    TargetSpec,
    build_series,
    build_trajectory,
    climate_correct,
    climate_correction_factor,
    project,
    reference_hdd,
    target_path,
)
from datahub.errors import ValidationFailed
from tests.paths import TEST_DATA


def _value(path: tuple[Point, ...], year: int) -> float:
    return next(p.value for p in path if p.year == year)


def test_example_6_linear_path() -> None:
    # 2,000 kt in 2019, −30 % in 2030 = 1,400 kt; step (2000 − 1400) / 11 = 54.545 kt/yr;
    # 2025 = 2000 − 6 × 54.545 = 1,672.73 kt; cumulative 2019..2030 = 12 × (2000 + 1400) / 2
    path = target_path(2000.0, TargetSpec(2019, 2030, 1400.0, "linear"))
    assert [p.year for p in path] == list(range(2019, 2031))
    assert _value(path, 2025) == pytest.approx(1672.73, abs=0.005)
    assert sum(p.value for p in path) == pytest.approx(20400.0)


def test_example_6_constant_rate_path() -> None:
    # r = 0.7^(1/11) − 1 = −3.1905 %/yr (the rate the budget reports: budget.compound_rate);
    # 2025 = 2000 × 0.7^(6/11) = 1,646.41 kt;
    # cumulative = 20,205.86 kt (front-loaded cuts: 194 kt less than linear)
    path = target_path(2000.0, TargetSpec(2019, 2030, 1400.0, "exponential"))
    assert _value(path, 2025) == pytest.approx(1646.41, abs=0.005)
    assert _value(path, 2030) == pytest.approx(1400.0)
    assert sum(p.value for p in path) == pytest.approx(20205.86, abs=0.01)
    assert compound_rate(2000.0, 1400.0, 11) == pytest.approx(-0.031905, abs=1e-6)


@pytest.mark.parametrize(("reference", "target"), [(1400.0, 0.0), (1400.0, -50.0), (0.0, 100.0)])
def test_constant_rate_towards_zero_or_across_zero_is_a_422(
    reference: float, target: float
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        target_path(reference, TargetSpec(2030, 2040, target, "exponential"))
    assert caught.value.status == 422
    assert caught.value.errors[0].field == "pathway"


def test_target_year_must_follow_reference_year() -> None:
    with pytest.raises(ValidationFailed):
        target_path(100.0, TargetSpec(2030, 2030, 0.0))


def test_snbc_territorialised_residential_rate() -> None:
    # research/carbon.md example 5: residential 513,790 (2015) -> 311,380 (2030) tCO2e,
    # 0.60605^(1/15) − 1 = −3.284 %/yr; a constant-rate path between them hits 2030 exactly.
    rows = {
        int(r["annee"]): float(r["cae_1.c_residentiel_tCO2e"])
        for r in csv.DictReader(
            (TEST_DATA / "reference/snbc/tet-snbc-territorialisee-fixture.csv").open(
                encoding="utf-8"
            )
        )
    }
    assert compound_rate(rows[2015], rows[2030], 15) == pytest.approx(-0.03284, abs=1e-5)
    path = target_path(rows[2015], TargetSpec(2015, 2030, rows[2030], "exponential"))
    assert _value(path, 2030) == pytest.approx(311_380.0)


def test_projection_and_neutrality_year_by_hand() -> None:
    # nets 100, 90, 85, 70 in 2018..2021: mean year 2019.5, mean net 86.25;
    # Sxx = 2.25 + 0.25 + 0.25 + 2.25 = 5; Sxy = −1.5×13.75 − 0.5×3.75 + 0.5×(−1.25) + 1.5×(−16.25)
    # = −47.5, slope = −9.5 t/yr; trend(2028) = 86.25 − 9.5 × 8.5 = 5.5 > 0,
    # trend(2029) = 86.25 − 9.5 × 9.5 = −4.0 ≤ 0 -> neutrality 2029
    proj = project([Point(2018, 100), Point(2019, 90), Point(2020, 85), Point(2021, 70)])
    assert proj is not None
    assert proj.slope == pytest.approx(-9.5)
    assert proj.at(2019.5) == pytest.approx(86.25)
    assert proj.neutrality_year == 2029
    capped = project([Point(2018, 100), Point(2019, 90)], horizon=2025)
    assert capped is not None
    assert capped.neutrality_year is None


def test_projection_exact_zero_and_no_neutrality() -> None:
    # 1000 − 50 (t − 2015): exactly 0 in 2035, which counts (≤ 0)
    exact = project([Point(y, 1000 - 50 * (y - 2015)) for y in range(2015, 2021)])
    assert exact is not None
    assert exact.neutrality_year == 2035
    rising = project([Point(2015, 10), Point(2016, 12), Point(2017, 11)])
    assert rising is not None
    assert rising.neutrality_year is None
    already = project([Point(2015, -5), Point(2016, -4)])
    assert already is not None
    assert already.neutrality_year == 2015
    assert project([Point(2015, 10)]) is None


def test_example_7_interpolation_is_year_based_and_flagged() -> None:
    # 600,000 (2012) and 560,000 (2016): 2015 = 600,000 + 3/4 × (−40,000) = 570,000 on whole
    # years (TeT's date-based fraction 1096/1461 would give 569,993.2)
    emissions = {(2012, "industry"): 600_000.0, (2016, "industry"): 560_000.0}
    series, withheld = build_series(emissions, interpolate=True)
    assert [y.year for y in series] == [2012, 2013, 2014, 2015, 2016]
    y2015 = series[3]
    assert y2015.interpolated
    assert not series[0].interpolated
    assert y2015.emissions == pytest.approx(570_000.0)
    assert y2015.breakdown == {"industry": pytest.approx(570_000.0)}
    assert y2015.net == pytest.approx(570_000.0)  # no land-use data: sequestration 0
    assert withheld == ()
    plain, _ = build_series(emissions)
    assert [y.year for y in plain] == [2012, 2016]


def test_example_8_climate_correction() -> None:
    # 100 kt, DJU 1,700 in a mild year vs a 2,000 normal: fully heating-sensitive
    # 100 × 2000/1700 = 117.65; with h = 0.7: 100 × (0.3 + 0.7 × 2000/1700) = 112.35
    assert 100 * climate_correction_factor(1700, 2000, 1.0) == pytest.approx(117.647, abs=1e-3)
    assert 100 * climate_correction_factor(1700, 2000, 0.7) == pytest.approx(112.353, abs=1e-3)
    values = {(2022, "residential"): 100.0, (2022, "industry"): 50.0}
    corrected = climate_correct(values, {2022: 1700}, 2000, {"residential": 0.7})
    assert corrected[(2022, "residential")] == pytest.approx(112.353, abs=1e-3)
    assert corrected[(2022, "industry")] == 50.0  # not heating-sensitive
    with pytest.raises(ValidationFailed):
        climate_correct(values, {2021: 1700}, 2000, {"residential": 0.7})
    with pytest.raises(ValidationFailed):
        climate_correction_factor(1700, 2000, 1.5)
    # reference HDD = mean over the reference period: (1900 + 2100 + 2000) / 3
    assert reference_hdd({1990: 1900, 1991: 2100, 1992: 2000, 2022: 1700}, 1990, 2020) == 2000


def test_build_trajectory_net_target_gap_and_projection() -> None:
    emissions = {
        (2019, "residential"): 600.0,
        (2019, "industry"): 600.0,
        (2020, "residential"): 550.0,
        (2020, "industry"): 570.0,
        (2021, "residential"): 500.0,
        (2021, "industry"): 560.0,
    }
    sequestration = {2019: 150.0, 2020: 160.0, 2021: 160.0}
    result = build_trajectory(
        emissions, sequestration, target=TargetSpec(2019, 2040, 0.0, "linear")
    )
    nets = [y.net for y in result.series]
    # 1200 − 150 = 1050; 1120 − 160 = 960; 1060 − 160 = 900
    assert nets == [1050.0, 960.0, 900.0]
    assert result.series[0].breakdown == {"industry": 600.0, "residential": 600.0}
    assert result.target is not None
    assert result.target.reference_net == 1050.0
    # path falls 1050/21 = 50 per year: 1000 in 2020, 950 in 2021; gap = net − path
    assert [(g.year, g.value) for g in result.gap] == [(2019, 0.0), (2020, -40.0), (2021, -50.0)]
    # trend: slope = (900 − 1050)/2 = −75, trend(2020) = 970; 970 − 75 (t − 2020) ≤ 0 from
    # t ≥ 2032.93 -> 2033
    assert result.projection is not None
    assert result.projection.slope == pytest.approx(-75.0)
    assert result.projection.neutrality_year == 2033
    ranged = build_trajectory(emissions, sequestration, year_from=2020)
    assert [y.year for y in ranged.series] == [2020, 2021]


def test_reference_year_without_a_net_is_a_422() -> None:
    with pytest.raises(ValidationFailed) as caught:
        build_trajectory({(2020, "waste"): 10.0}, target=TargetSpec(2019, 2030))
    assert caught.value.errors[0].field == "reference_year"


def test_sequestration_fill_modes() -> None:
    emissions = {(y, "waste"): 100.0 for y in (2016, 2018, 2020, 2022)}
    sequestration = {2018: 30.0, 2020: 50.0}
    zero, _ = build_series(emissions, sequestration)
    assert [y.sequestration for y in zero] == [0.0, 30.0, 50.0, 0.0]
    nearest, _ = build_series(emissions, sequestration, sequestration_fill="nearest")
    assert [y.sequestration for y in nearest] == [30.0, 30.0, 50.0, 50.0]
    filled, _ = build_series(
        emissions, sequestration, interpolate=True, sequestration_fill="nearest"
    )
    assert filled[3].year == 2019
    assert filled[3].sequestration == pytest.approx(40.0)
    unknown, _ = build_series(emissions, sequestration, sequestration_fill="none")
    assert [y.net for y in unknown] == [None, 70.0, 50.0, None]
