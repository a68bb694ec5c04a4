"""Callers with different views, and coalitions of organisations (contract §2, §5, §5b).

Hand-built cases, reasoning in the comments, over the pure decisions
(:class:`datahub.carbon.disclosure.Disclosure`): a view is the set of datasets a caller uses
only in aggregate, a knower what a caller reads in full. The randomised search over 200
hierarchies is ``test_carbon_secrecy_variants.py``.
"""

from __future__ import annotations

import numpy as np

from datahub.carbon.disclosure import BY_SECTOR, Disclosure, Figure
from datahub.carbon.secrecy import SecrecyRule

RULE = SecrecyRule()  # 3 actors, no actor above 85 %
Y = 2020


def fig(scope: str, sector: str, actor: str, owner: str, source: str, tonnes: float) -> Figure:
    return Figure(scope, Y, sector, "CO2", "CO2e", actor, owner, tonnes, source)


def hidden(disclosure: Disclosure, territory: str, view: set[str] | None) -> set[str | None]:
    return {c.key for c in disclosure.outcome(territory, BY_SECTOR, view=view).withheld}


# Two shared datasets of two organisations (a charter member reads both), one restricted-stat
# dataset of a third: in the commune's industry cell, four shared actors and one restricted.
SHARED = {"S1", "S2"}
COMMUNE = [
    fig("c", "industry", "s1", "P1", "S1", 30.0),
    fig("c", "industry", "s2", "P1", "S1", 30.0),
    fig("c", "industry", "s3", "P2", "S2", 30.0),
    fig("c", "industry", "s4", "P2", "S2", 30.0),
    fig("c", "industry", "r1", "Q", "R", 40.0),
    # three restricted actors in the residential cell: it passes for everyone
    fig("c", "residential", "q1", "Q", "R", 20.0),
    fig("c", "residential", "q2", "Q", "R", 25.0),
    fig("c", "residential", "q3", "Q", "R", 30.0),
]
# The anonymous caller reads nothing; a member reads S1 and S2; each producer its own (and,
# when a member, the shared ones too).
KNOWERS = [
    frozenset(SHARED),
    frozenset({"S1"}),
    frozenset({"S2"}),
    frozenset({"R"}),
    frozenset({"S1", "S2", "R"}),
]


def test_a_member_subtracting_the_shared_figures_it_reads_found_one_actor_before() -> None:
    # With the coalition rule alone (each organisation knows its own), the industry cell
    # passes: five actors, the largest 40 of 160 (25 %); without P1 three actors (30, 30, 40),
    # without P2 the same, without Q four. So it was shown to the anonymous caller...
    alone = Disclosure(COMMUNE, {}, RULE, {})
    assert hidden(alone, "c", None) == set()
    # ...and a member, who reads the four shared figures in full (120 t), subtracted them from
    # the anonymous 160 t: 160 − 120 = 40 t, the restricted actor r1's exact figure.
    shown = sum(f.tonnes for f in COMMUNE if f.sector == "industry")
    assert shown - sum(f.tonnes for f in COMMUNE if f.source in SHARED) == 40.0


def test_what_a_more_privileged_caller_reads_counts_as_known_in_every_view() -> None:
    disclosure = Disclosure(COMMUNE, {}, RULE, {}, knowers=KNOWERS)
    # For the member, the industry cell less what it reads is r1 alone: it fails, so the cell
    # is withheld; the year's total would then give it back (total − residential), so the
    # total is withheld too; residential passes for everyone and stays.
    anonymous = hidden(disclosure, "c", {"S1", "S2", "R"})
    member = hidden(disclosure, "c", {"R"})
    assert anonymous == member == {"industry", None}
    # Q reads R (its own) and uses the shared data in aggregate: industry less R is four
    # shared actors, which Q cannot recompute (only residential, its own, is shown): withheld
    # from Q as well. Q as a charter member reads everything: nothing is withheld from it.
    assert hidden(disclosure, "c", {"S1", "S2"}) == {"industry", None}
    assert hidden(disclosure, "c", set()) == set()


# A hierarchy: EPCI e of communes c1 and c2, one sector. c1 holds three shared actors of three
# organisations and one restricted actor; c2 three restricted actors.
EPCI = [
    fig("c1", "industry", "s1", "P1", "S1", 30.0),
    fig("c1", "industry", "s2", "P2", "S2", 30.0),
    fig("c1", "industry", "s3", "P3", "S3", 30.0),
    fig("c1", "industry", "r1", "Q", "R", 40.0),
    fig("c2", "industry", "r2", "Q", "R", 30.0),
    fig("c2", "industry", "r3", "Q", "R", 35.0),
    fig("c2", "industry", "r4", "Q", "R", 40.0),
]
EDGES = {"c1": {"e"}, "c2": {"e"}}
LEVELS = {"c1": 1, "c2": 1, "e": 2}
MEMBER = frozenset({"S1", "S2", "S3"})


def test_two_views_are_decided_together_across_territories() -> None:
    # Decided apart, as before, the two views disagreed: the anonymous view showed c1 (four
    # actors; without any one organisation three pass) and c2; the member's view (R alone)
    # withheld c1 (r1 alone) and c2 (else e − c2 = r1). A member holding both subtracted the
    # shared figures from the anonymous c1 and read r1 = 40.
    knowers = [MEMBER, *(frozenset({s}) for s in ("S1", "S2", "S3", "R"))]
    disclosure = Disclosure(EPCI, EDGES, RULE, {}, levels=LEVELS, knowers=knowers)
    # Decided together: c1 less what a member reads is r1 alone, withheld in every view that
    # uses R in aggregate; e − c2 would give it back to the member, so c2 is withheld too
    # (the smaller member of the relation), and e is shown: less the shared figures, four
    # restricted actors (145 t, the largest 40 t: 28 %).
    for view in ({"S1", "S2", "S3", "R"}, {"R"}):
        assert hidden(disclosure, "c1", view) == {"industry", None}
        assert hidden(disclosure, "c2", view) == {"industry", None}
        assert hidden(disclosure, "e", view) == set()
    # What the member gets from both views, as equations over the restricted figures it may
    # not read (r1..r4; the shared ones it knows): each shown cell or total of either view
    # is a row. Only e's (r1 + r2 + r3 + r4, twice) remain, so no single figure is a
    # combination of them (least squares leaves a residual).
    secret = [f for f in EPCI if f.source == "R"]
    rows = []
    for view in ({"S1", "S2", "S3", "R"}, {"R"}):
        for territory in ("c1", "c2", "e"):
            for key in ("industry", None):
                if key not in hidden(disclosure, territory, view):
                    rows.append([float(territory in {f.scope, *EDGES[f.scope]}) for f in secret])
    assert rows
    assert all(row == [1.0] * 4 for row in rows)
    for unit in np.eye(len(secret)):
        weights = np.linalg.lstsq(np.array(rows).T, unit, rcond=None)[0]
        assert np.linalg.norm(np.array(rows).T @ weights - unit) > 0.1


def test_a_withheld_cell_a_caller_recomputes_anyway_is_shown_to_it() -> None:
    # Agriculture: two actors of producer P (fails); industry: three actors of Q (passes).
    # The anonymous view withholds agriculture and, since the total minus industry would give
    # it back, the total. P reads agriculture in full (it is its own) and sees industry: the
    # total tells P nothing it cannot add up, so P's view shows it; Q's view withholds both
    # (agriculture less R is P's two actors, which Q cannot recompute).
    figures = [
        fig("c", "agriculture", "p1", "P", "SP", 50.0),
        fig("c", "agriculture", "p2", "P", "SP", 60.0),
        *(fig("c", "industry", f"q{i}", "Q", "R", 20.0 + i) for i in range(3)),
    ]
    disclosure = Disclosure(figures, {}, RULE, {})  # knowers: each owner its own
    assert hidden(disclosure, "c", {"SP", "R"}) == {"agriculture", None}
    assert hidden(disclosure, "c", {"R"}) == set()  # P's view
    assert hidden(disclosure, "c", {"SP"}) == {"agriculture", None}  # Q's view


# Coalitions (contract §5b: for every producer organisation, the others' figures pass alone).
def test_every_producer_organisation_is_left_out_in_turn() -> None:
    # Three organisations: A and B one actor each, C two. Four actors, the largest 30 of 100:
    # the cell passes as a whole, and without A (b1, c1, c2) or without B (a1, c1, c2) too;
    # without C only a1 and b1 are left: C, subtracting its own, would learn a sum of two
    # actors (and A, knowing a1, would then read b1). The cell is withheld, and the total
    # with it (it is the only cell).
    figures = [
        fig("c", "industry", "a1", "A", "DA", 20.0),
        fig("c", "industry", "b1", "B", "DB", 30.0),
        fig("c", "industry", "c1", "C", "DC", 25.0),
        fig("c", "industry", "c2", "C", "DC", 25.0),
    ]
    assert hidden(Disclosure(figures, {}, RULE, {}), "c", None) == {"industry", None}


def test_two_colluding_organisations_are_outside_the_rule_unless_declared() -> None:
    # A and B two actors each, C one: without any one organisation three actors or more are
    # left, so the per-organisation rule shows the cell; A and B together subtract their four
    # figures and read C's c1 exactly. The contract asks for one organisation at a time; a
    # coalition the instance knows of can be declared as a knower, and then it holds.
    figures = [
        fig("c", "industry", "a1", "A", "DA", 20.0),
        fig("c", "industry", "a2", "A", "DA", 20.0),
        fig("c", "industry", "b1", "B", "DB", 20.0),
        fig("c", "industry", "b2", "B", "DB", 20.0),
        fig("c", "industry", "c1", "C", "DC", 20.0),
        *(fig("c", "residential", f"d{i}", "D", "DD", 10.0 + i) for i in range(3)),
    ]
    per_organisation = Disclosure(figures, {}, RULE, {})
    assert hidden(per_organisation, "c", None) == set()
    # the honest limit: A and B's sum subtracted from the cell is c1
    cell = sum(f.tonnes for f in figures if f.sector == "industry")
    assert cell - sum(f.tonnes for f in figures if f.owner in "AB") == 20.0
    owners = [frozenset({d}) for d in ("DA", "DB", "DC", "DD")]
    declared = Disclosure(figures, {}, RULE, {}, knowers=[*owners, frozenset({"DA", "DB"})])
    assert hidden(declared, "c", None) == {"industry", None}
