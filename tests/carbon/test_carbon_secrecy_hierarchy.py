"""Secrecy across territories: no withheld cell can be recomputed by differencing a territory
against the territories inside it, checked by hand and against an exact linear attacker."""

from __future__ import annotations

import random

import numpy as np

from datahub.carbon.secrecy import Contribution, Decisions, WithheldCell, decide, failure

EPCI, DEPT = "epci", "dept"
ANCESTORS = {c: {EPCI, DEPT} for c in ("a", "b", "c")}
LEVELS = {"a": 0, "b": 0, "c": 0, EPCI: 1, DEPT: 2}


def _cells(decisions: Decisions, territory: str) -> list[tuple[str | None, str]]:
    return [(c.key, c.reason) for c in decisions.outcome(territory).withheld]


def test_a_lone_withheld_commune_gets_a_sibling_partner_and_its_total_hides() -> None:
    contributions = [
        Contribution(2020, "industry", "a1", 40.0, "a"),
        Contribution(2020, "industry", "a2", 30.0, "a"),  # commune a: 2 actors, withheld
        *(Contribution(2020, "industry", f"b{i}", 10.0, "b") for i in range(3)),  # b: 30
        *(Contribution(2020, "industry", f"c{i}", 50.0, "c") for i in range(3)),  # c: 150
    ]
    decisions = decide(contributions, ANCESTORS, levels=LEVELS)
    # a's table has industry only, so its total equals the withheld cell: hidden too.
    assert _cells(decisions, "a") == [("industry", "secrecy"), (None, "complementary")]
    # The EPCI's industry (8 actors) passes and is shown, so EPCI − b − c would give a back:
    # the smallest shown sibling, b (30 < 150), is withheld too, with its total. EPCI − c
    # = a + b = 100 from {a1 40, a2 30, b0..b2 10}: 5 actors, largest 40 %, passes.
    assert _cells(decisions, "b") == [("industry", "complementary"), (None, "complementary")]
    assert _cells(decisions, "c") == []
    # The département covers the same communes as the EPCI: both show the same value.
    assert _cells(decisions, EPCI) == []
    assert _cells(decisions, DEPT) == []


def test_a_dominated_union_takes_a_second_partner() -> None:
    contributions = [
        Contribution(2020, "industry", "a1", 300.0, "a"),
        Contribution(2020, "industry", "a2", 10.0, "a"),
        *(Contribution(2020, "industry", f"b{i}", 10.0, "b") for i in range(3)),  # 30
        *(Contribution(2020, "industry", f"c{i}", 40.0, "c") for i in range(3)),  # 120
    ]
    decisions = decide(contributions, ANCESTORS, levels=LEVELS)
    # a + b = 340 with a1 = 300 (88 % > 85 %) fails, so c is withheld as well:
    # a + b + c = 460, a1 = 65 %, passes — and equals the EPCI, which stays shown.
    assert _cells(decisions, "c") == [("industry", "complementary"), (None, "complementary")]
    assert _cells(decisions, "b") == [("industry", "complementary"), (None, "complementary")]
    assert _cells(decisions, EPCI) == []


def test_tables_sharing_withheld_totals_hide_what_would_give_them_back() -> None:
    # A by-gas table shares its totals with the by-sector table, which (say) withheld the
    # totals of commune a, of the EPCI and of the département: they are fixed here.
    contributions = [
        Contribution(2020, "CO2", f"{c}{i}", 10.0 * (i + 1), c) for c in "abc" for i in range(3)
    ]
    fixed = {("a", 2020), (EPCI, 2020), (DEPT, 2020)}
    decisions = decide(contributions, ANCESTORS, levels=LEVELS, fixed_totals=fixed)
    # Every cell passes (3 actors), but each of these tables has one gas: its CO2 cell is its
    # total, so a withheld total whose only member shows would be given back: CO2 is withheld.
    for territory in ("a", EPCI, DEPT):
        assert set(_cells(decisions, territory)) == {
            ("CO2", "complementary"),
            (None, "complementary"),
        }
    # b and c stay: EPCI − b − c is not known, the EPCI being withheld.
    assert _cells(decisions, "b") == []
    assert _cells(decisions, "c") == []


def test_own_facts_at_the_parent_level_count_as_a_hidden_remainder() -> None:
    # One actor counted at the EPCI itself: EPCI − Σ communes would give it back alone.
    contributions = [
        *(Contribution(2020, "industry", f"{c}{i}", 10.0, c) for c in "abc" for i in range(3)),
        Contribution(2020, "industry", "x", 20.0, EPCI),
    ]
    decisions = decide(contributions, {**ANCESTORS, EPCI: {DEPT}}, levels=LEVELS)
    withheld_communes = [c for c in "abc" if decisions.outcome(c).hides(2020, "industry")]
    assert withheld_communes == ["a"]  # x + a = {x 20, a0..a2 10}: 4 actors, 40 %, passes


def _vectors(
    contributions: list[Contribution], ancestors: dict[str, set[str]]
) -> dict[tuple[str, str | None], np.ndarray]:
    """Each cell as the 0/1 sum of the unknowns (own territory, key) below it."""
    unknowns = sorted({(c.territory, c.key) for c in contributions})
    index = {u: i for i, u in enumerate(unknowns)}
    vectors: dict[tuple[str, str | None], np.ndarray] = {}
    for c in contributions:
        for territory in {c.territory, *ancestors.get(c.territory, ())}:
            for key in (c.key, None):
                vector = vectors.setdefault((territory, key), np.zeros(len(unknowns)))
                vector[index[(c.territory, c.key)]] = 1.0
    return vectors


def _random_world(
    rng: random.Random,
) -> tuple[list[Contribution], dict[str, set[str]], dict[str, int]]:
    """A region, two départements, one or two EPCIs each, one to four communes each; communes
    have two parents (EPCI and département); sometimes one figure is counted at an EPCI."""
    ancestors: dict[str, set[str]] = {}
    levels = {"region": 4}
    for d in ("d0", "d1"):
        levels[d] = 3
        for e in range(rng.randint(1, 2)):
            epci = f"{d}-e{e}"
            levels[epci], ancestors[epci] = 2, {d, "region"}
            for c in range(rng.randint(1, 4)):
                levels[f"{epci}-c{c}"] = 1
                ancestors[f"{epci}-c{c}"] = {epci, d, "region"}
    keys = ["industry", "waste", "agriculture"][: rng.randint(1, 3)]
    contributions = [
        Contribution(2020, key, f"actor{rng.randint(0, 30)}", float(rng.randint(1, 100)), place)
        for place, level in levels.items()
        if level == 1
        for key in keys
        for _ in range(rng.choice([0, 1, 2, 3, 4]))
    ]
    if rng.random() < 0.4:
        epci = rng.choice(sorted(t for t, level in levels.items() if level == 2))
        contributions.append(Contribution(2020, keys[0], "actor-epci", 50.0, epci))
    return contributions, ancestors, levels


def test_no_withheld_cell_is_a_combination_of_shown_ones_in_random_hierarchies() -> None:
    """The exact attacker: a withheld cell is recoverable from everything shown (cells and
    totals of every territory) iff its vector lies in the span of the shown cells' vectors."""
    for seed in range(150):
        contributions, ancestors, levels = _random_world(random.Random(seed))
        if not contributions:
            continue
        decisions = decide(contributions, ancestors, levels=levels)
        vectors = _vectors(contributions, ancestors)
        hidden = {
            (territory, c.key) for territory, cells in decisions.by_territory.items() for c in cells
        }
        shown = [v for cell, v in vectors.items() if cell not in hidden]
        rank = np.linalg.matrix_rank(np.array(shown)) if shown else 0
        for cell in hidden:
            stacked = np.array([*shown, vectors[cell]])
            assert np.linalg.matrix_rank(stacked) > rank, (seed, cell)
        # and every shown keyed cell passes the primary rule
        for territory, key in vectors:
            if key is None or (territory, key) in hidden:
                continue
            inside = {territory} | {t for t, up in ancestors.items() if territory in up}
            by_actor: dict[str, float] = {}
            for c in contributions:
                if c.key == key and c.territory in inside:
                    by_actor[c.actor] = by_actor.get(c.actor, 0.0) + c.value
            assert failure(by_actor) is None, (seed, territory, key)


def test_decisions_do_not_depend_on_the_order_of_contributions() -> None:
    contributions, ancestors, levels = _random_world(random.Random(7))
    shuffled = list(contributions)
    random.Random(1).shuffle(shuffled)
    assert decide(contributions, ancestors, levels=levels) == decide(
        shuffled, ancestors, levels=levels
    )


def test_single_table_through_decide() -> None:
    # apply_secrecy is decide() for one territory: see test_carbon_secrecy.py; here the
    # one-territory decision through decide() directly, with no hierarchy. The only passing
    # cell (waste) stays shown; the total, which would give industry back, is withheld.
    contributions = [
        Contribution(2020, "industry", "a", 40.0),
        Contribution(2020, "industry", "b", 30.0),
        *(Contribution(2020, "waste", actor, 10.0) for actor in "cde"),
    ]
    assert decide(contributions).outcome("").withheld == (
        WithheldCell(2020, "industry", "secrecy"),
        WithheldCell(2020, None, "complementary"),
    )
