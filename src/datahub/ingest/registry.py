"""The connectors installed in this Python environment, found through entry points.

First-party connectors use the same path as third-party ones: an entry point in the
``datahub.connectors`` group naming an object that matches
:class:`~datahub.ingest.contract.Connector`. datahub itself never imports ``connectors``.
"""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from datahub.errors import NotFound
from datahub.ingest.contract import Connector

GROUP = "datahub.connectors"

log = logging.getLogger(__name__)


class ConnectorNotFound(NotFound):
    code = "connector-not-found"
    title = "Unknown connector"


def _load(entry: EntryPoint) -> Connector[Any] | None:
    try:
        loaded = entry.load()
    except Exception:  # a broken plugin must not take the others down
        log.exception("connector entry point %r could not be loaded", entry.value)
        return None
    if not isinstance(loaded, Connector):
        log.error("entry point %r is not a datahub connector", entry.value)
        return None
    connector: Connector[Any] = loaded
    if connector.name != entry.name:
        log.warning("connector %r is registered as %r", connector.name, entry.name)
    return connector


def all() -> list[Connector[Any]]:
    """Every installed connector, sorted by name (entry points that fail to load are logged)."""
    found = {}
    for entry in entry_points(group=GROUP):
        connector = _load(entry)
        if connector is not None:
            found[entry.name] = connector
    return [found[name] for name in sorted(found)]


def names() -> list[str]:
    return sorted(entry.name for entry in entry_points(group=GROUP))


def get(name: str) -> Connector[Any]:
    """The connector registered as ``name``; :class:`ConnectorNotFound` (404) otherwise."""
    for entry in entry_points(group=GROUP, name=name):
        connector = _load(entry)
        if connector is not None:
            return connector
    known = ", ".join(names()) or "none installed"
    raise ConnectorNotFound(f"no connector {name!r} (known: {known})")
