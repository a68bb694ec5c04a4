"""sirene replayed on recorded API Recherche d'entreprises answers (annuaire-entreprises site)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from connectors.sirene import SireneParams, connector

from datahub.ingest.contract import ActorRecord, FatalConnectorError
from datahub.ingest.contract import sector_for_naf as naf_sector

ANSWERS = {
    "130025265": "search_q_130025265_dinum.json",
    "217500016": "search_q_217500016_ville_de_paris.json",
    "198100125": "search_q_198100125_lycee.json",
    "12345678900003": "search_q_12345678900003_no_result.json",
    # No SIRET query was recorded. A SIRET search answers with the same legal unit; DINUM's head
    # office is 13002526500013, so the SIREN answer stands in for it.
    "13002526500013": "search_q_130025265_dinum.json",
}


def _handler(recorded: Path, first_429: bool = False) -> Callable[[httpx.Request], httpx.Response]:
    seen = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        assert request.url.host == "recherche-entreprises.api.gouv.fr"
        assert request.url.path == "/search"
        if first_429 and seen == 1:
            # The API answers 429 with Retry-After above 7 requests/s (research note §3.2).
            return httpx.Response(429, headers={"Retry-After": "1"})
        name = ANSWERS[request.url.params["q"]]
        body = (recorded / "recherche_entreprises" / name).read_bytes()
        return httpx.Response(200, headers={"content-type": "application/json"}, content=body)

    return handler


def test_actors_by_siren_and_siret(make_run: Callable[..., Any], recorded: Path) -> None:
    run = make_run(_handler(recorded))
    params = SireneParams(
        identifiers=["130025265", "13002526500013", "217500016", "198100125", "12345678900003"]
    )
    actors = [a for a in connector.run(params, run.context) if isinstance(a, ActorRecord)]
    assert len(actors) == 4  # the unknown SIRET is skipped, nothing else is yielded
    dinum, dinum_office, paris, lycee = actors
    assert dinum == ActorRecord(
        id="siren:130025265",
        siren="130025265",
        siret="13002526500013",
        name="DIRECTION INTERMINISTERIELLE DU NUMERIQUE (DINUM)",
        naf="84.11Z",
        sector="tertiary",
        territory="commune:75107",
        lon=2.30845866278063,
        lat=48.850466845484,
    )
    assert dinum_office.id == "siret:13002526500013"
    assert dinum_office.siren == "130025265"
    assert paris.name == "VILLE DE PARIS"
    assert paris.territory == "commune:75104"
    assert lycee.naf == "85.31Z"
    assert lycee.sector == "tertiary"
    assert lycee.territory == "commune:81033"
    assert run.progress[-1][2] == "not found: 12345678900003"
    assert [r.url.params["q"] for r in run.requests] == params.identifiers


def test_missing_identifier_can_fail_the_run(make_run: Callable[..., Any], recorded: Path) -> None:
    run = make_run(_handler(recorded))
    params = SireneParams(identifiers=["12345678900003"], skip_missing=False)
    with pytest.raises(FatalConnectorError, match="does not know 12345678900003"):
        list(connector.run(params, run.context))


def test_malformed_identifier_is_fatal(make_run: Callable[..., Any], recorded: Path) -> None:
    run = make_run(_handler(recorded))
    with pytest.raises(FatalConnectorError, match="not a SIREN or SIRET: 12345"):
        list(connector.run(SireneParams(identifiers=["12345"]), run.context))
    assert run.requests == []


def test_429_is_retried_after_the_advertised_delay(
    make_run: Callable[..., Any], recorded: Path
) -> None:
    run = make_run(_handler(recorded, first_429=True))
    (actor,) = list(connector.run(SireneParams(identifiers=["130025265"]), run.context))
    assert isinstance(actor, ActorRecord)
    assert actor.siren == "130025265"
    assert run.sleeps == [1.0]


def test_naf_to_pcaet_sector() -> None:
    assert naf_sector("01.11Z") == "agriculture"
    assert naf_sector("10.71C") == "industry"
    assert naf_sector("19.20Z") == "energy"  # refining
    assert naf_sector("35.11Z") == "energy"
    assert naf_sector("38.11Z") == "waste"
    assert naf_sector("41.20A") == "industry"  # construction
    assert naf_sector("49.41A") == "road_transport"  # road freight
    assert naf_sector("49.10Z") == "other_transport"  # rail
    assert naf_sector("51.10Z") == "other_transport"  # air
    assert naf_sector("84.11Z") == "tertiary"
    assert naf_sector("97.00Z") == "residential"
    assert naf_sector(None) is None
    assert naf_sector("") is None


@pytest.mark.live
def test_live_cda_la_rochelle(live_context: Any) -> None:
    (actor,) = list(connector.run(SireneParams(identifiers=["241700434"]), live_context))
    assert isinstance(actor, ActorRecord)
    assert actor.territory == "commune:17300"
