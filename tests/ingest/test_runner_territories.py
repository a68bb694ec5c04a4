"""The runner stores what ign-territories yields: the La Rochelle tree, idempotently.

Replayed answers (see runner_replays.py): 28 member communes built on the recorded Penmarch
answer, the EPCI/département/région answers swapped from the synthetic Finistère fixtures.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from tests.conftest import Persona
from tests.ingest.runner_replays import (
    EPCI,
    RECORDED,
    context,
    la_rochelle_answers,
    la_rochelle_communes,
    snapshot,
    wfs_handler,
)

from datahub.errors import ValidationFailed
from datahub.ingest.contract import RetriableConnectorError
from datahub.ingest.registry import ConnectorNotFound
from datahub.ingest.runner import run_connector
from datahub.runtime import Runtime
from datahub.territories import service as territories
from datahub.territories.schemas import ActorCreate, TerritoryCreate

PARAMS = {"territory": f"epci:{EPCI}"}


def parents(runtime: Runtime, code: str) -> set[str]:
    with runtime.transaction() as session:
        (read,) = territories.read_many(session, [territories.get(session, code)])
    return set(read.parents)


@pytest.fixture
def producer(make_user: Callable[..., Persona]) -> Persona:
    return make_user("producer", "cda-lr", member=True)


def test_la_rochelle_tree_is_created_and_a_second_run_changes_nothing(
    runtime: Runtime, producer: Persona
) -> None:
    ctx = context(runtime, producer)
    progress: list[tuple[int, int | None, str]] = []
    transport = httpx.MockTransport(wfs_handler(la_rochelle_answers()))
    result = run_connector(
        runtime, "ign-territories", PARAMS, ctx, lambda *p: progress.append(p), transport=transport
    )
    # 28 communes + the EPCI + département 17 + région 75 + country:FR.
    assert len(la_rochelle_communes()) == 28
    assert result.territories == 32
    assert (result.versions, result.actors, result.warnings) == ([], 0, [])

    assert parents(runtime, "commune:17300") == {f"epci:{EPCI}", "departement:17"}
    assert parents(runtime, f"epci:{EPCI}") == {"departement:17"}
    assert parents(runtime, "departement:17") == {"region:75"}
    assert parents(runtime, "region:75") == {"country:FR"}
    with runtime.transaction() as session:
        # The EPCI and its 28 communes; La Rochelle has the reference population (communes.json).
        assert len(territories.scope(session, f"epci:{EPCI}")) == 29
        la_rochelle = territories.get(session, "commune:17300")
        assert (la_rochelle.name, la_rochelle.population) == ("La Rochelle", 79851)
        assert la_rochelle.geometry is not None
        assert territories.get(session, "region:75").name == "Nouvelle-Aquitaine"
    # The connector's own progress, then the store phase ending at 32 of 32.
    assert progress[0] == (0, None, f"reading the communes of epci:{EPCI}")
    assert progress[-1] == (32, 32, "stored 32 of 32 items")

    before = snapshot(runtime)
    again = run_connector(runtime, "ign-territories", PARAMS, ctx, transport=transport)
    assert again.territories == 32
    assert snapshot(runtime) == before
    assert before["Territory"] == 32
    # Parent edges: 28 communes × 2 + EPCI 1 + département 1 + région 1 = 59.
    assert before["TerritoryParent"] == 59


def test_unknown_parent_is_dropped_with_a_warning(runtime: Runtime, producer: Persona) -> None:
    answers = la_rochelle_answers()
    empty = b'{"type":"FeatureCollection","features":[],"numberMatched":0,"numberReturned":0}'
    # The région layer answers nothing: département 17 names region:75, which nobody produced.
    transport = httpx.MockTransport(
        wfs_handler(answers, {"region": httpx.Response(200, content=empty)})
    )
    result = run_connector(
        runtime, "ign-territories", PARAMS, context(runtime, producer), transport=transport
    )
    assert result.territories == 31
    assert result.warnings == ["territory departement:17: unknown parent region:75 dropped"]
    assert parents(runtime, "departement:17") == set()
    assert parents(runtime, "commune:17300") == {f"epci:{EPCI}", "departement:17"}


def test_persistent_500_fails_and_leaves_everything_as_it_was(
    runtime: Runtime, producer: Persona
) -> None:
    ctx = context(runtime, producer)
    before = snapshot(runtime)
    sleeps: list[float] = []
    failing = httpx.Response(500, text="Internal Server Error")
    transport = httpx.MockTransport(wfs_handler(la_rochelle_answers(), {"epci": failing}))
    with pytest.raises(RetriableConnectorError, match="HTTP 500 after 4 attempts"):
        run_connector(
            runtime, "ign-territories", PARAMS, ctx, transport=transport, sleep=sleeps.append
        )
    assert len(sleeps) == 3  # 4 attempts, 3 waits between them
    assert snapshot(runtime) == before


def test_bad_parameters_and_unknown_connector(runtime: Runtime, producer: Persona) -> None:
    ctx = context(runtime, producer)
    with pytest.raises(ValidationFailed) as caught:
        run_connector(runtime, "ign-territories", {"territory": "epci:LR"}, ctx)
    assert caught.value.status == 422
    assert [e.field for e in caught.value.errors] == ["params.territory"]
    with pytest.raises(ValidationFailed) as missing:
        run_connector(runtime, "ign-territories", {}, ctx)
    assert [e.field for e in missing.value.errors] == ["params.territory"]
    with pytest.raises(ConnectorNotFound, match="no connector 'nope'"):
        run_connector(runtime, "nope", {}, ctx)


def test_sirene_actors_are_created_or_updated_and_need_a_known_territory(
    runtime: Runtime, producer: Persona
) -> None:
    recorded = RECORDED / "recherche_entreprises"
    answers = {
        "130025265": recorded / "search_q_130025265_dinum.json",
        "217500016": recorded / "search_q_217500016_ville_de_paris.json",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        body = answers[request.url.params["q"]].read_bytes()
        return httpx.Response(200, headers={"content-type": "application/json"}, content=body)

    with runtime.transaction() as session:
        # DINUM's head office is in Paris 7e (75107); Paris 4e (75104, the Ville de Paris) is not
        # loaded. DINUM already exists under an old name: the run refreshes it.
        territories.upsert(
            session, TerritoryCreate(code="commune:75107", name="Paris 7e", level="commune")
        )
        territories.create_actor(
            session,
            ActorCreate(
                id="130025265", siren="130025265", name="DINSIC", territory="commune:75107"
            ),
        )
    result = run_connector(
        runtime,
        "sirene",
        {"identifiers": ["130025265", "217500016"]},
        context(runtime, producer),
        transport=httpx.MockTransport(handler),
    )
    assert result.actors == 1
    assert result.warnings == [
        "actor siren:217500016 skipped: commune:75104 is not a known territory"
    ]
    with runtime.transaction() as session:
        dinum = territories.actor_read(territories.get_actor(session, "130025265"))
    assert dinum.name == "DIRECTION INTERMINISTERIELLE DU NUMERIQUE (DINUM)"
    assert (dinum.siret, dinum.naf, dinum.sector) == ("13002526500013", "84.11Z", "tertiary")
    assert dinum.lon == pytest.approx(2.30845866278063)
    assert dinum.lat == pytest.approx(48.850466845484)
