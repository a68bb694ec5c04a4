"""Reads what :func:`datahub.carbon.projects.project_adjustment` needs for one territory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.orm import Session

from datahub.carbon import repository
from datahub.carbon.indexing import most_specific_first
from datahub.carbon.projects import Project, project_adjustment
from datahub.carbon.sequestration import FactorTable, change_key
from datahub.catalog import rows
from datahub.territories import service as territories


def _projects(session: Session, version_ids: Sequence[int], inside: set[str]) -> list[Project]:
    out = []
    for version in repository.versions_by_id(session, version_ids):
        for _, row in rows.iter_version(session, version):
            if row["territory"] in inside:
                out.append(
                    Project(
                        row["territory"],
                        row["land_use"],
                        float(row["area_ha"]),
                        int(row["start_year"]),
                    )
                )
    return out


def adjustment(
    session: Session,
    project_versions: Sequence[int],
    land_versions: Sequence[int],
    table: FactorTable,
    code: str,
    years: set[int],
) -> dict[int, float]:
    """The projects inside ``code``, counted once, as a per-year sequestration adjustment."""
    projects = _projects(session, project_versions, territories.scope(session, code))
    if not projects:
        return {}
    where = sorted({p.territory for p in projects})
    chains = {t: [t, *most_specific_first(territories.ancestors(session, t))] for t in where}
    survey: dict[tuple[str, int, str], float] = defaultdict(float)
    changes: dict[tuple[str, int, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for _v, scope, year, kind, key, hectares in repository.land_areas(
        session, land_versions, where
    ):
        if kind == "flow":
            survey[(scope, year, key)] += hectares
        else:
            origin, _, target = key.partition("->")
            changes[(scope, year, target)][origin] += hectares
    return project_adjustment(
        projects,
        sorted(years),
        lambda land_use, t: table.lookup(land_use, chains[t]),
        survey,
        changes,
        lambda origin, to, t: table.lookup(change_key(origin, to), chains[t]),
    )
