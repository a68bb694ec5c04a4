"""A DCAT-AP catalogue in JSON-LD of the datasets one caller may see.

data.gouv.fr's DCAT harvester reads ``dct:license`` as a URI and maps it to its own licence ids,
so licences are given by their official URLs; access levels map to the EU access-right
vocabulary (open → PUBLIC, shared → RESTRICTED, restricted → NON_PUBLIC).
"""

from __future__ import annotations

from typing import Any

from datahub.catalog.schemas import DatasetRead

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
}
ACCESS_RIGHTS = {
    "open": "http://publications.europa.eu/resource/authority/access-right/PUBLIC",
    "shared": "http://publications.europa.eu/resource/authority/access-right/RESTRICTED",
    "restricted": "http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC",
}


def _dataset(api: str, item: DatasetRead) -> dict[str, Any]:
    url = f"{api}/datasets/{item.id}"
    node: dict[str, Any] = {
        "@id": url,
        "@type": "dcat:Dataset",
        "dct:identifier": item.id,
        "dct:title": item.title,
        "dct:description": item.description,
        "dcat:keyword": item.tags,
        "dct:publisher": {
            "@id": f"{api}/organizations/{item.producer}",
            "@type": "foaf:Organization",
            "foaf:name": item.producer,
        },
        "dct:license": {"@id": item.licence.url},
        "dct:accessRights": {"@id": ACCESS_RIGHTS[item.level]},
        "dct:issued": {"@value": item.created_at.isoformat(), "@type": "xsd:dateTime"},
        "dct:modified": {"@value": item.updated_at.isoformat(), "@type": "xsd:dateTime"},
        "dcat:landingPage": {"@id": url},
        "dct:spatial": [{"@id": f"{api}/territories/{code}"} for code in item.territories],
    }
    coverage = item.temporal_coverage
    if coverage is not None:
        period: dict[str, Any] = {"@type": "dct:PeriodOfTime"}
        if coverage.start:
            period["dcat:startDate"] = {"@value": coverage.start.isoformat(), "@type": "xsd:date"}
        if coverage.end:
            period["dcat:endDate"] = {"@value": coverage.end.isoformat(), "@type": "xsd:date"}
        node["dct:temporal"] = period
    if item.current_version is not None:
        node["dcat:distribution"] = [
            {
                "@id": f"{url}/data?format=csv",
                "@type": "dcat:Distribution",
                "dct:title": f"{item.title} (CSV)",
                "dcat:accessURL": {"@id": f"{url}/data"},
                "dcat:downloadURL": {"@id": f"{url}/data?format=csv"},
                "dcat:mediaType": {"@id": "http://www.iana.org/assignments/media-types/text/csv"},
                "dct:format": "CSV",
                "dct:license": {"@id": item.licence.url},
                "dct:accessRights": {"@id": ACCESS_RIGHTS[item.level]},
            },
            {
                "@id": f"{url}/data",
                "@type": "dcat:Distribution",
                "dct:title": f"{item.title} (JSON API)",
                "dcat:accessURL": {"@id": f"{url}/data"},
                "dcat:mediaType": {
                    "@id": "http://www.iana.org/assignments/media-types/application/json"
                },
                "dct:format": "JSON",
                "dct:license": {"@id": item.licence.url},
                "dct:accessRights": {"@id": ACCESS_RIGHTS[item.level]},
            },
        ]
    return node


def catalogue(base_url: str, title: str, datasets: list[DatasetRead]) -> dict[str, Any]:
    api = base_url.rstrip("/") + "/api/v1"
    return {
        "@context": CONTEXT,
        "@id": f"{api}/catalog/dcat",
        "@type": "dcat:Catalog",
        "dct:title": title,
        "dct:description": f"Datasets published on {title}",
        "foaf:homepage": {"@id": base_url},
        "dcat:dataset": [_dataset(api, d) for d in datasets],
    }
