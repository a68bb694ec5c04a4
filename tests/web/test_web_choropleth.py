"""The map's classes and legend, by hand (pure: no database)."""

from __future__ import annotations

from datahub.web import choropleth
from datahub.web.choropleth import Place


def _places(*populations: int) -> list[Place]:
    return [Place(f"commune:9900{i}", f"C{i}", p, 1.0, True) for i, p in enumerate(populations)]


def test_five_equal_count_classes_and_a_sink() -> None:
    places = _places(*[100] * 11)
    # Nets 100..1000 t for ten communes (1..10 t/hab), one absorbing (−50 t: −0.5 t/hab).
    nets = {p.code: (float(100 * (i + 1)), False) for i, p in enumerate(places[:10])}
    nets[places[10].code] = (-50.0, False)
    built = choropleth.build(places, nets, 2020, "habitant")
    colours = [c.colour for c in built.cells]
    # Ten positive values in five classes of two: upper bounds 2, 4, 6, 8, 10 t/hab.
    assert colours[:10] == [s for s in choropleth.SHADES for _ in range(2)]
    assert colours[10] == choropleth.SINK
    labels = [e.label for e in built.legend]
    assert labels[0].startswith("négatif")
    assert labels[1:] == ["de 0 à 2,0", "plus de 2,0 à 4,0", "plus de 4,0 à 6,0",
                          "plus de 6,0 à 8,0", "plus de 8,0 à 10,0"]  # fmt: skip


def test_close_values_get_enough_decimals_and_secret_is_never_valued() -> None:
    places = _places(1000, 1000, 1000)
    nets = {
        places[0].code: (6310.0, False),  # 6.310 t/hab
        places[1].code: (6340.0, False),  # 6.340 t/hab
        places[2].code: (None, True),  # withheld
    }
    built = choropleth.build(places, nets, 2020, "habitant")
    assert [e.label for e in built.legend] == [
        "de 0 à 6,31",
        "plus de 6,31 à 6,34",
        "secret statistique (valeur masquée)",
    ]
    secret = built.cells[2]
    assert (secret.state, secret.value, secret.net, secret.colour) == (
        "secret", None, None, choropleth.SECRET)  # fmt: skip
