"""``datahub init``: stand up an instance for one territory, idempotently.

Writes the instance configuration (``.env``, never overwritten), applies migrations, creates the
administrators' organisation and first admin (its token, or None when it existed, goes to
``on_admin`` as soon as it is committed, before any network step, so a failed fetch never loses
it), loads the territory and the territories inside it — through the ``ign-territories``
connector, or from a GeoJSON file for offline machines — and sets a default target
(neutrality in ``target_year``). A second run finds everything in place and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from datahub.accounts import service as accounts
from datahub.accounts.caller import Caller, RequestContext
from datahub.accounts.schemas import OrganizationCreate, UserCreate
from datahub.carbon import service as carbon
from datahub.carbon.schemas import TargetWrite
from datahub.catalog import uploads
from datahub.errors import FieldError, NotFound, ValidationFailed
from datahub.ingest import runner
from datahub.runtime import Runtime
from datahub.territories import service as territories
from datahub.territories.codes import LEVELS, explain, level_of
from datahub.territories.schemas import TerritoryCreate


@dataclass
class InitReport:
    config_written: bool = False
    storage_created: bool = False
    organization_created: bool = False
    token: str | None = None
    territories_created: list[str] = field(default_factory=list)
    target_set: bool = False
    warnings: list[str] = field(default_factory=list)


def write_config(path: Path, values: dict[str, str]) -> bool:
    """Write the instance's ``.env`` once; an existing file is the operator's and is kept."""
    if path.exists():
        return False
    lines = [f"{key}={value}" for key, value in values.items()]
    path.write_text("# datahub instance configuration (datahub init)\n" + "\n".join(lines) + "\n")
    return True


def territories_from_file(path: Path) -> list[TerritoryCreate]:
    """Territories from a GeoJSON FeatureCollection as ``GET /territories?format=geojson`` gives.

    Each feature's properties carry ``code``, ``name``, ``level``, ``parents`` (codes) and
    optionally ``population``; the geometry (WGS84) may be null.
    """
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
        features = collection["features"]
        found = []
        for feature in features:
            props: dict[str, Any] = feature["properties"]
            found.append(
                TerritoryCreate(
                    code=props["code"],
                    name=props["name"],
                    level=props["level"],
                    parent=list(props.get("parents") or []),
                    geometry=feature.get("geometry"),
                    population=props.get("population"),
                )
            )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed(
            f"{path} is not a territories GeoJSON file",
            errors=[FieldError(None, "from_file", str(exc)[:200])],
        ) from None
    # Parents before children: country, région, département, EPCI, commune.
    return sorted(found, key=lambda t: -LEVELS.index(t.level))


def _admin_context(org: str) -> RequestContext:
    return RequestContext(Caller(user_id=None, organization_id=org, role="admin"))


def init_instance(
    runtime: Runtime,
    *,
    territory: str,
    name: str,
    admin_email: str,
    target_year: int,
    reference_year: int,
    from_file: Path | None,
    on_admin: Callable[[str | None], None] = lambda _token: None,
) -> InitReport:
    report = InitReport()
    level = level_of(territory)
    if level is None:
        raise ValidationFailed(explain(territory))
    report.storage_created = runtime.storage.ensure_ready()
    org_id = territory.replace(":", "-")
    with runtime.transaction() as session:
        if accounts.find_organization(session, org_id) is None:
            accounts.create_organization(
                session,
                OrganizationCreate(
                    id=org_id,
                    name=name,
                    member=True,
                    siren=territory.split(":")[1] if level == "epci" else None,
                ),
            )
            report.organization_created = True
        if accounts.find_user_by_email(session, admin_email) is None:
            _user, report.token = accounts.register_user(
                session,
                UserCreate(email=admin_email, organization_id=org_id, role="admin"),
                accounts.system_actor("init"),
                via="init",
            )
    on_admin(report.token)  # None: the administrator existed already
    if from_file is not None:
        wanted = territories_from_file(from_file)
        with runtime.transaction() as session:
            for item in wanted:
                try:
                    territories.get(session, item.code)
                except NotFound:
                    territories.upsert(session, item)
                    report.territories_created.append(item.code)
    else:
        result = runner.run_connector(
            runtime, "ign-territories", {"territory": territory}, _admin_context(org_id)
        )
        report.warnings.extend(result.warnings)
        report.territories_created.append(f"{result.territories} territories from IGN")
    with runtime.transaction() as session:
        try:
            carbon.get_target(session, territory)
        except NotFound:
            carbon.set_target(
                session,
                runtime.licences,
                runtime.settings,
                territory,
                TargetWrite(reference_year=reference_year, target_year=target_year),
            )
            report.target_set = True
    return report


ORPHAN_AGE = timedelta(hours=1)


def recover_storage(runtime: Runtime, older_than: timedelta = ORPHAN_AGE) -> list[str]:
    """Delete stored files that no version points to (a crash between storing a file and
    committing its version leaves one). Run by ``datahub serve`` at start; files younger than
    ``older_than`` are left alone, as they may belong to an upload in flight on another host."""
    with runtime.transaction() as session:
        return uploads.sweep_orphans(session, runtime.storage, older_than=older_than)
