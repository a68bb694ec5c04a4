"""The steering maths without a database: budget, ramps, scenario, reference gaps."""

from __future__ import annotations

import pytest

from datahub.carbon.budget import compound_rate, compute_budget
from datahub.carbon.reference import compare
from datahub.carbon.scenario import Action, build_scenario, ramp
from datahub.carbon.secrecy import SecrecyOutcome, WithheldCell
from datahub.carbon.trajectory import TargetSpec, build_trajectory


def test_ramp_is_linear_from_start_to_end() -> None:
    # 90 t/yr reached from 2020 (0) to 2023 (all): 0, 30, 60, 90, then 90.
    assert [ramp(90, 2020, 2023, y) for y in range(2019, 2025)] == [0, 0, 30, 60, 90, 90]
    # start = end: all of it at once.
    assert ramp(90, 2020, 2020, 2020) == 90


def test_compound_rate() -> None:
    # −30 % over 11 years: 0.7^(1/11) − 1 = −3.1905 %/yr (research notes, example 6).
    assert compound_rate(2000, 1400, 11) == pytest.approx(-0.031905, abs=1e-6)
    assert compound_rate(1000, 0, 9) is None  # no constant rate reaches 0
    assert compound_rate(1000, -10, 9) is None  # nor changes sign
    assert compound_rate(1000, 900, 0) is None


def test_budget_skips_withheld_years() -> None:
    # Nets 100 (2015), 90 (2016), withheld total in 2017, 80 (2018), 70 (2019)... then the
    # last year 2020 is withheld: the last *shown* year is 2019, never 2020.
    cells = {(y, "industry"): 100.0 - 10 * (y - 2015) for y in range(2015, 2021)}
    secrecy = SecrecyOutcome(
        (
            WithheldCell(2017, "industry", "secrecy"),
            WithheldCell(2017, None, "complementary"),
            WithheldCell(2020, "industry", "secrecy"),
            WithheldCell(2020, None, "complementary"),
        )
    )
    result = build_trajectory(cells, secrecy=secrecy, target=TargetSpec(2015, 2025, 20.0))
    budget = compute_budget(result)
    assert budget is not None
    assert budget.last_observed_year == 2019
    # Window 2014..2018, first shown 2015 (100): (60/100)^(1/4) − 1; (60 − 100)/4 = −10.
    assert budget.observed_from_year == 2015
    assert budget.observed_rate == pytest.approx(0.6**0.25 - 1)
    assert budget.observed_annual_change == pytest.approx(-10.0)
    # (20 / 60)^(1/6) − 1 from 2019 to 2025.
    assert budget.required_rate == pytest.approx((1 / 3) ** (1 / 6) - 1)
    # The shown points lie on 100 − 10 (t − 2015): Σ 2015..2025 = 11 × trend(2020) = 11 × 50.
    assert budget.trend == pytest.approx(550.0)
    # Linear path 100 → 20 over 11 values, mean 60.
    assert budget.target_path == pytest.approx(660.0)


def test_no_target_no_budget_one_year_no_scenario() -> None:
    result = build_trajectory({(2019, "waste"): 10.0})
    assert compute_budget(result) is None
    # One observed year: no trend, so no baseline to subtract actions from.
    assert build_scenario(result, [Action("a", "waste", 2020, 2021, "absolute", 1.0)]) is None


def test_scenario_without_target_runs_to_2050() -> None:
    result = build_trajectory({(2019, "waste"): 10.0, (2020, "waste"): 9.0})
    scenario = build_scenario(result, [Action("a", "waste", 2020, 2030, "relative", 0.5)])
    assert scenario is not None
    assert (scenario.from_year, scenario.to_year) == (2020, 2050)
    # Relative: half of waste's trend in 2020 (9) = 4.5, ramped over 2020..2030.
    assert scenario.series[-1].contributions == {"a": pytest.approx(4.5)}
    # Trend 10 − (t − 2019): 0 in 2029; minus 0.45 × (t − 2020) from the action:
    # 9 − (t − 2020) × 1.45 ≤ 0 from t = 2020 + 9/1.45 = 2026.2, so 2027.
    assert scenario.neutrality_year == 2027
    assert all(y.gap is None for y in scenario.series)


def test_reference_gap_uses_shown_figures_only() -> None:
    cells = {(2019, "industry"): 50.0, (2019, "waste"): 20.0}
    secrecy = SecrecyOutcome((WithheldCell(2019, "industry", "secrecy"),))
    result = build_trajectory(cells, secrecy=secrecy)
    years = compare(
        result,
        {(2019, "industry"): 40.0, (2019, "waste"): 25.0, (2019, "total"): 60.0},
        by_sector=True,
    )
    # waste 20 − 25 = −5; total 70 − 60 = +10 (the total is shown); industry withheld: no gap.
    assert years[0].gap == {"total": 10.0, "waste": -5.0}


def test_an_empty_plan_keeps_the_trend_budget() -> None:
    cells = {(2019, "waste"): 10.0, (2020, "waste"): 9.0}
    result = build_trajectory(cells, target=TargetSpec(2019, 2021))
    scenario = build_scenario(result, [])
    assert scenario is not None
    budget = compute_budget(result, scenario.avoided())
    assert budget is not None
    # Nothing avoided: the scenario's budget is the trend's, 10 + 9 + 8 = 27.
    assert budget.scenario == budget.trend == pytest.approx(27.0)
