"""Statistical secrecy: primary and complementary suppression, checked against an attacker.

The attacker test: build two data sets that differ only in the withheld values, and check
that everything shown (series, breakdown, totals, net, the list of withheld cells) is
identical. If two different secrets give the same view, the view cannot reveal the secret.
"""

from __future__ import annotations

import pytest

from datahub.carbon.secrecy import (
    Contribution,
    SecrecyRule,
    WithheldCell,
    apply_secrecy,
    failure,
)
from datahub.carbon.trajectory import TargetSpec, TrajectoryResult, build_trajectory
from datahub.errors import ValidationFailed


def _cells(
    contributions: list[Contribution], public: dict[tuple[int, str], float]
) -> dict[tuple[int, str], float]:
    cells = dict(public)
    for c in contributions:
        cells[(c.year, c.key)] = cells.get((c.year, c.key), 0.0) + c.value
    return cells


def _run(
    contributions: list[Contribution], public: dict[tuple[int, str], float]
) -> TrajectoryResult:
    cells = _cells(contributions, public)
    outcome = apply_secrecy(contributions, cells)
    return build_trajectory(cells, {2020: 100.0, 2021: 100.0}, secrecy=outcome)


def _view(result: TrajectoryResult) -> object:
    """Everything a reader sees."""
    return (
        [(y.year, y.emissions, y.sequestration, y.net, y.breakdown) for y in result.series],
        result.withheld,
    )


def test_primary_rule_thresholds() -> None:
    assert failure({"a": 50.0, "b": 50.0}) == "fewer than 3 actors"
    assert failure({"a": 90.0, "b": 5.0, "c": 5.0}) == "one actor above 85% of the cell"
    assert failure({"a": 85.0, "b": 7.5, "c": 7.5}) is None  # exactly 85 % is not above
    assert failure({"a": -90.0, "b": 5.0, "c": 5.0}) is not None  # shares of absolute values
    assert failure({"a": 1.0, "b": 1.0}, SecrecyRule(min_actors=2)) is None


def test_two_actor_cell_and_dominated_cell_are_withheld() -> None:
    contributions = [
        Contribution(2020, "industry", "a", 40.0),
        Contribution(2020, "industry", "b", 30.0),  # 2 actors
        Contribution(2020, "energy", "x", 80.0),
        Contribution(2020, "energy", "x", 10.0),  # one actor's rows are summed: x = 90 %
        Contribution(2020, "energy", "y", 5.0),
        Contribution(2020, "energy", "z", 5.0),
        *(Contribution(2020, "waste", actor, 10.0) for actor in "cde"),
    ]
    outcome = apply_secrecy(contributions, _cells(contributions, {}))
    primary = [c for c in outcome.withheld if c.reason == "secrecy"]
    assert primary == [
        WithheldCell(2020, "energy", "secrecy"),
        WithheldCell(2020, "industry", "secrecy"),
    ]
    # energy + industry together: 5 actors, largest x = 90/170 = 53 %: their sum may show,
    # so no complementary cell and the total stays
    assert not outcome.hides_total(2020)
    assert [c for c in outcome.withheld if c.reason == "complementary"] == []


def test_single_withheld_cell_gets_the_next_smallest_partner_and_cannot_be_recovered() -> None:
    public = {(2020, "residential"): 500.0}
    secret_a = [
        Contribution(2020, "industry", "a", 40.0),
        Contribution(2020, "industry", "b", 30.0),  # 70, two actors: withheld
        *(Contribution(2020, "waste", actor, 10.0) for actor in "cde"),  # 30, passes
        *(Contribution(2020, "agriculture", actor, 50.0) for actor in "fgh"),  # 150, passes
    ]
    result = _run(secret_a, public)
    assert result.withheld == (
        WithheldCell(2020, "industry", "secrecy"),
        WithheldCell(2020, "waste", "complementary"),  # 30 < 150: the smallest partner
    )
    shown = result.series[0]
    assert shown.breakdown == {"agriculture": 150.0, "residential": 500.0}
    assert shown.emissions == 750.0
    assert shown.net == 650.0
    # The attacker: total − shown cells = industry + waste = 100, one equation, two unknowns.
    assert shown.emissions - sum(shown.breakdown.values()) == 100.0
    # Another secret with the same sum (industry 75, waste 25, rules still met the same way)
    # gives exactly the same view, so the view does not determine industry.
    secret_b = [
        Contribution(2020, "industry", "a", 45.0),
        Contribution(2020, "industry", "b", 30.0),
        Contribution(2020, "waste", "c", 10.0),
        Contribution(2020, "waste", "d", 10.0),
        Contribution(2020, "waste", "e", 5.0),
        *(Contribution(2020, "agriculture", actor, 50.0) for actor in "fgh"),
    ]
    assert _view(_run(secret_b, public)) == _view(result)


def test_no_partner_left_suppresses_the_total_and_net() -> None:
    public = {(2021, "residential"): 500.0}
    secret_a = [
        Contribution(2021, "industry", "a", 40.0),
        Contribution(2021, "industry", "b", 30.0),
    ]
    result = _run(secret_a, public)
    assert result.withheld == (
        WithheldCell(2021, "industry", "secrecy"),
        WithheldCell(2021, None, "complementary"),
    )
    year = result.series[0]
    assert year.breakdown == {"residential": 500.0}
    assert year.emissions is None
    assert year.net is None
    assert year.sequestration == 100.0  # land use is not secret
    secret_b = [Contribution(2021, "industry", "a", 1.0), Contribution(2021, "industry", "b", 2.0)]
    assert _view(_run(secret_b, public)) == _view(result)
    # A target cannot start from a hidden net: that would draw the secret on the chart
    cells = _cells(secret_a, public)
    with pytest.raises(ValidationFailed):
        build_trajectory(
            cells, secrecy=apply_secrecy(secret_a, cells), target=TargetSpec(2021, 2040)
        )


def test_withheld_cells_whose_sum_still_fails_take_more_partners() -> None:
    contributions = [
        Contribution(2020, "industry", "a", 40.0),
        Contribution(2020, "industry", "b", 30.0),
        Contribution(2020, "energy", "a", 10.0),  # same actor a: the union has only a and b
        *(Contribution(2020, "waste", actor, 10.0) for actor in "cde"),
        *(Contribution(2020, "tertiary", actor, 20.0) for actor in "fgh"),
    ]
    outcome = apply_secrecy(contributions, _cells(contributions, {}))
    # {a, b} fails whatever the sum: the smallest passing cell (waste 30 < tertiary 60) joins.
    assert outcome.withheld == (
        WithheldCell(2020, "energy", "secrecy"),
        WithheldCell(2020, "industry", "secrecy"),
        WithheldCell(2020, "waste", "complementary"),
    )


def test_a_four_actor_cell_beside_a_two_actor_cell_is_shown_and_the_total_withheld() -> None:
    # industry {a 40, b 30} fails (2 actors); waste {c, d, e, f} = 4 × 10 passes. Either the
    # waste cell or the total must go (total − waste = industry); both cost one figure, and
    # minimal loss (contract §5b) keeps the passing cell: the total and net are withheld.
    public = {(2020, "residential"): 500.0}
    contributions = [
        Contribution(2020, "industry", "a", 40.0),
        Contribution(2020, "industry", "b", 30.0),
        *(Contribution(2020, "waste", actor, 10.0) for actor in "cdef"),
    ]
    result = _run(contributions, public)
    assert result.withheld == (
        WithheldCell(2020, "industry", "secrecy"),
        WithheldCell(2020, None, "complementary"),
    )
    shown = result.series[0]
    assert shown.breakdown == {"residential": 500.0, "waste": 40.0}
    assert shown.emissions is None
    assert shown.net is None
    # Another secret (industry 10 + 20 instead of 40 + 30) gives the same view.
    other = [
        Contribution(2020, "industry", "a", 10.0),
        Contribution(2020, "industry", "b", 20.0),
        *(Contribution(2020, "waste", actor, 10.0) for actor in "cdef"),
    ]
    assert _view(_run(other, public)) == _view(result)


def test_interpolated_years_do_not_leak_withheld_neighbours() -> None:
    public = {(2020, "residential"): 500.0, (2022, "residential"): 480.0, (2022, "industry"): 60.0}
    contributions = [
        Contribution(2020, "industry", "a", 40.0),
        Contribution(2020, "industry", "b", 30.0),
    ]
    cells = _cells(contributions, public)
    result = build_trajectory(cells, secrecy=apply_secrecy(contributions, cells), interpolate=True)
    y2021 = next(y for y in result.series if y.year == 2021)
    assert y2021.interpolated
    assert y2021.breakdown == {"residential": 490.0}  # (500 + 480) / 2
    assert y2021.emissions is None  # 2020's total is hidden, so its midpoint is too
    assert WithheldCell(2021, "industry", "complementary") in result.withheld
    assert WithheldCell(2021, None, "complementary") in result.withheld
