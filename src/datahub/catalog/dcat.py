"""The DCAT-AP 3 catalogue of the datasets one caller may read, as an RDF graph.

Written for two readers: the DCAT-AP 3 SHACL shapes (every linked resource typed with the class
its property expects; formats, media types, licences and rights as resources, not literals) and
data.gouv.fr's udata harvester, which
- maps ``dct:license`` by URI among its own licences' URLs: each licence gives the URI udata
  knows (``Licence.dcat_uri``), its SPDX id kept as ``dct:identifier``; no ``rdfs:label`` on it,
  since udata would read the label instead of the URI;
- reads ``dcat:mediaType`` as an IANA URI (``https://www.iana.org/assignments/media-types/…``)
  and ``dct:format`` from the EU file-type vocabulary;
- reads spatial coverage from GeoJSON literals under ``dct:spatial``: ``dcat:bbox`` is one.
Access levels map to the EU access-right vocabulary (open → PUBLIC, shared → RESTRICTED,
restricted → NON_PUBLIC).

The two readers disagree on one term, so the catalogue has two profiles that differ only there.
The shapes require ``spdx:checksumValue`` typed ``xsd:hexBinary`` (``dcat-ap``, the default).
udata reads that literal through rdflib, which decodes a hexBinary into bytes; its string field
refuses them and the whole dataset fails to harvest. ``datagouv`` gives the same value as a plain
literal, which udata stores as the resource's SHA-256.
"""

from __future__ import annotations

import json
from typing import Final

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, XSD
from shapely.geometry import box, mapping

from datahub.catalog.service import CatalogueEntry
from datahub.licensing.registry import Licence
from datahub.territories.service import Footprint

SPDX: Final = Namespace("http://spdx.org/rdf/terms#")
LOCN: Final = Namespace("http://www.w3.org/ns/locn#")
GSP: Final = Namespace("http://www.opengis.net/ont/geosparql#")
IANA: Final = "https://www.iana.org/assignments/media-types/"
FILE_TYPE: Final = "http://publications.europa.eu/resource/authority/file-type/"
ACCESS_RIGHT: Final = "http://publications.europa.eu/resource/authority/access-right/"
GEOJSON_LITERAL: Final = URIRef(IANA + "application/vnd.geo+json")
ACCESS_RIGHTS: Final = {"open": "PUBLIC", "shared": "RESTRICTED", "restricted": "NON_PUBLIC"}
#: The catalogue's profiles, the default first (see the module's docstring).
PROFILES: Final = ("dcat-ap", "datagouv")
#: Stored formats: (IANA media type, EU file type).
FORMATS: Final = {
    "csv": ("text/csv", "CSV"),
    "json": ("application/json", "JSON"),
    "geojson": ("application/geo+json", "GEOJSON"),
    "parquet": ("application/vnd.apache.parquet", "PARQUET"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
}


class _Builder:
    def __init__(self, base_url: str, profile: str) -> None:
        assert profile in PROFILES, profile
        self.profile = profile
        self.base = base_url.rstrip("/")
        self.api = f"{self.base}/api/v1"
        self.graph = Graph(bind_namespaces="none")
        for prefix, namespace in (
            ("dcat", DCAT),
            ("dct", DCTERMS),
            ("foaf", FOAF),
            ("spdx", SPDX),
            ("locn", LOCN),
            ("gsp", GSP),
            ("rdf", RDF),
            ("rdfs", RDFS),
            ("xsd", XSD),
        ):
            self.graph.bind(prefix, namespace)

    def typed(self, iri: str, kind: URIRef) -> URIRef:
        node = URIRef(iri)
        self.graph.add((node, RDF.type, kind))
        return node

    def agent(self, iri: str, name: str) -> URIRef:
        node = self.typed(iri, FOAF.Agent)
        self.graph.add((node, RDF.type, FOAF.Organization))
        self.graph.add((node, FOAF.name, Literal(name)))
        return node

    def licence(self, licence: Licence) -> URIRef:
        node = self.typed(licence.dcat_uri, DCTERMS.LicenseDocument)
        if licence.spdx_id:
            self.graph.add((node, DCTERMS.identifier, Literal(licence.spdx_id)))
        return node

    def location(self, place: Footprint) -> URIRef:
        node = self.typed(f"{self.api}/territories/{place.code}", DCTERMS.Location)
        self.graph.add((node, RDFS.label, Literal(place.name)))
        if place.bbox is not None:
            envelope = json.dumps(mapping(box(*place.bbox)))
            self.graph.add((node, DCAT.bbox, Literal(envelope, datatype=GEOJSON_LITERAL)))
        if place.outline is not None:
            geometry = BNode()
            self.graph.add((node, LOCN.geometry, geometry))
            self.graph.add((geometry, RDF.type, LOCN.Geometry))
            self.graph.add(
                (geometry, GSP.asWKT, Literal(place.outline.wkt, datatype=GSP.wktLiteral))
            )
        return node

    def distribution(
        self,
        iri: str,
        title: str,
        fmt: str,
        access_url: str,
        *,
        download: bool,
        licence: URIRef,
        rights: URIRef,
    ) -> URIRef:
        node = self.typed(iri, DCAT.Distribution)
        media, file_type = FORMATS[fmt]
        self.graph.add((node, DCTERMS.title, Literal(title)))
        self.graph.add((node, DCAT.accessURL, self.typed(access_url, RDFS.Resource)))
        if download:
            self.graph.add((node, DCAT.downloadURL, self.typed(iri, RDFS.Resource)))
        self.graph.add((node, DCAT.mediaType, self.typed(IANA + media, DCTERMS.MediaType)))
        self.graph.add(
            (node, DCTERMS.format, self.typed(FILE_TYPE + file_type, DCTERMS.MediaTypeOrExtent))
        )
        self.graph.add((node, DCTERMS.license, licence))
        self.graph.add((node, DCTERMS.accessRights, rights))
        return node

    def dataset(self, entry: CatalogueEntry) -> URIRef:
        item, graph = entry.dataset, self.graph
        url = f"{self.api}/datasets/{item.id}"
        node = self.typed(url, DCAT.Dataset)
        graph.add((node, DCTERMS.identifier, Literal(item.id)))
        graph.add((node, DCTERMS.title, Literal(item.title)))
        graph.add((node, DCTERMS.description, Literal(item.description or item.title)))
        for tag in item.tags:
            graph.add((node, DCAT.keyword, Literal(tag)))
        graph.add(
            (
                node,
                DCTERMS.publisher,
                self.agent(f"{self.api}/organizations/{item.producer}", entry.publisher),
            )
        )
        licence = self.licence(entry.licence)
        rights = self.typed(ACCESS_RIGHT + ACCESS_RIGHTS[item.level], DCTERMS.RightsStatement)
        graph.add((node, DCTERMS.license, licence))
        graph.add((node, DCTERMS.accessRights, rights))
        graph.add((node, DCTERMS.issued, Literal(item.created_at, datatype=XSD.dateTime)))
        graph.add((node, DCTERMS.modified, Literal(item.updated_at, datatype=XSD.dateTime)))
        # The dataset's web page (the web edge serves /datasets/{id}).
        graph.add(
            (node, DCAT.landingPage, self.typed(f"{self.base}/datasets/{item.id}", FOAF.Document))
        )
        for place in entry.places:
            graph.add((node, DCTERMS.spatial, self.location(place)))
        coverage = item.temporal_coverage
        if coverage is not None and (coverage.start or coverage.end):
            period = BNode()
            graph.add((node, DCTERMS.temporal, period))
            graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
            if coverage.start:
                graph.add((period, DCAT.startDate, Literal(coverage.start, datatype=XSD.date)))
            if coverage.end:
                graph.add((period, DCAT.endDate, Literal(coverage.end, datatype=XSD.date)))
        schema = (
            self.typed(f"{self.api}/schemas/{item.kind}", DCTERMS.Standard)
            if item.kind != "generic"
            else None
        )
        if schema is not None:
            graph.add((node, DCTERMS.conformsTo, schema))
        if entry.version is not None:
            self._distributions(node, url, entry, licence, rights, schema)
        return node

    def _distributions(
        self,
        node: URIRef,
        url: str,
        entry: CatalogueEntry,
        licence: URIRef,
        rights: URIRef,
        schema: URIRef | None,
    ) -> None:
        item, version, graph = entry.dataset, entry.version, self.graph
        assert version is not None
        rows = self.distribution(
            f"{url}/data?format=csv",
            f"{item.title} (CSV)",
            "csv",
            f"{url}/data",
            download=True,
            licence=licence,
            rights=rights,
        )
        if schema is not None:
            graph.add((rows, DCTERMS.conformsTo, schema))
        api = self.distribution(
            f"{url}/data",
            f"{item.title} (API JSON)",
            "json",
            f"{url}/data",
            download=False,
            licence=licence,
            rights=rights,
        )
        file_url = f"{url}/versions/{version.number}/file"
        original = self.distribution(
            file_url,
            f"{item.title} (fichier d'origine, {version.filename})",
            version.format if version.format in FORMATS else "csv",
            file_url,
            download=True,
            licence=licence,
            rights=rights,
        )
        graph.add((original, DCAT.byteSize, Literal(version.size, datatype=XSD.nonNegativeInteger)))
        checksum = BNode()
        graph.add((original, SPDX.checksum, checksum))
        graph.add((checksum, RDF.type, SPDX.Checksum))
        graph.add(
            (
                checksum,
                SPDX.algorithm,
                self.typed(str(SPDX.checksumAlgorithm_sha256), SPDX.ChecksumAlgorithm),
            )
        )
        digest = (
            Literal(version.sha256, datatype=XSD.hexBinary)
            if self.profile == "dcat-ap"
            else Literal(version.sha256)
        )
        graph.add((checksum, SPDX.checksumValue, digest))
        for distribution in (rows, api, original):
            graph.add((node, DCAT.distribution, distribution))


def catalogue(
    base_url: str, title: str, entries: list[CatalogueEntry], profile: str = PROFILES[0]
) -> Graph:
    builder = _Builder(base_url, profile)
    graph = builder.graph
    node = builder.typed(f"{builder.api}/catalog/dcat", DCAT.Catalog)
    graph.add((node, DCTERMS.title, Literal(title)))
    graph.add((node, DCTERMS.description, Literal(f"Jeux de données publiés sur {title}")))
    graph.add((node, DCTERMS.publisher, builder.agent(f"{builder.base}/#operator", title)))
    graph.add((node, FOAF.homepage, builder.typed(builder.base + "/", FOAF.Document)))
    for entry in entries:
        graph.add((node, DCAT.dataset, builder.dataset(entry)))
    return graph
