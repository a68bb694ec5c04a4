"""Frictionless descriptors: a version as a Data Package, the shipped kinds as Table Schemas.

A version's Table Schema is the one of its kind restricted to the columns the upload had (an
emissions file without the optional ``actor`` column is valid against it), in the file's order,
with the columns the kind does not define as they were typed on reading. Paths are relative to
the descriptor (``/datasets/{id}/datapackage.json``), as the Data Package spec allows, so the
package works behind any host name.
"""

from __future__ import annotations

from typing import Any, Final

from datahub.catalog import kinds
from datahub.db.models import Dataset, DatasetVersion
from datahub.licensing.registry import Licence

PROFILE: Final = "tabular-data-package"
TABLE_SCHEMA_SPEC: Final = "https://specs.frictionlessdata.io/schemas/table-schema.json"
#: What the rows download writes (catalog/csv_writer, default dialect).
ROWS_DIALECT: Final = {"delimiter": ",", "lineTerminator": "\r\n", "header": True}
_INTERNAL_KEYS: Final = (kinds.ROW_ONE_OF, "$schema")


def shipped_schema(kind: str) -> dict[str, Any] | None:
    """The Table Schema of a standard kind, as shipped."""
    return kinds.table_schema(kind)


def version_schema(kind: str, columns: list[dict[str, Any]]) -> dict[str, Any]:
    """The Table Schema the version's rows satisfy (see the module docstring)."""
    shipped = kinds.table_schema(kind) or {"fields": []}
    declared = {f["name"]: f for f in shipped["fields"]}
    fields = [declared.get(c["name"], {"name": c["name"], "type": c["type"]}) for c in columns]
    present = {f["name"] for f in fields}
    schema = {k: v for k, v in shipped.items() if k not in ("fields", *_INTERNAL_KEYS)}
    schema["fields"] = fields
    for key in ("primaryKey", "uniqueKeys"):
        if key in schema:  # keys over absent columns cannot hold
            schema.pop(key)
    if "foreignKeys" in schema:
        schema["foreignKeys"] = [
            fk for fk in schema["foreignKeys"] if set(_names(fk.get("fields"))) <= present
        ]
    return schema


def _names(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _licences(licence: Licence) -> list[dict[str, str]]:
    return [{"name": licence.spdx_id or licence.id, "path": licence.url, "title": licence.title}]


def _original(version: DatasetVersion, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The stored file as a resource, with the dialect it was read in (a French CSV: ``;``,
    decimal comma, Windows-1252...). Only CSV files are described: the rows resource already
    carries every format's data."""
    dialect = version.report.get("dialect") or {}
    if version.format != "csv" or not dialect.get("delimiter"):
        return None
    decimal = dialect.get("decimal") or "."
    fields = [
        {**f, "decimalChar": decimal} if f.get("type") == "number" and decimal != "." else f
        for f in schema["fields"]
    ]
    return {
        "name": "original",
        "path": f"versions/{version.number}/file",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": dialect.get("encoding") or "utf-8",
        "bytes": version.size,
        "hash": f"sha256:{version.sha256}",
        "dialect": {"delimiter": dialect["delimiter"], "header": True},
        "schema": {**schema, "fields": fields},
    }


def data_package(dataset: Dataset, version: DatasetVersion, licence: Licence) -> dict[str, Any]:
    """A Tabular Data Package of one version: its rows as CSV, and its original CSV file."""
    schema = version_schema(dataset.kind, list(version.columns))
    rows = {
        "name": "rows",
        "path": f"data?format=csv&version={version.number}",
        "profile": "tabular-data-resource",
        "title": dataset.title,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": ROWS_DIALECT,
        "schema": schema,
    }
    resources = [rows]
    if (original := _original(version, schema)) is not None:
        resources.append(original)
    package: dict[str, Any] = {
        "profile": PROFILE,
        "name": dataset.id.lower(),
        "title": dataset.title,
        "description": dataset.description,
        "version": str(version.number),
        "created": version.created_at.isoformat(),
        "keywords": list(dataset.tags),
        "licenses": _licences(licence),
        "resources": resources,
    }
    return package
