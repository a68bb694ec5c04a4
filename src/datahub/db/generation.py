"""Generation counters: a number that changes in the same transaction as the data it covers.

Cached results (trajectory bodies and charts) are keyed on what they were computed from. Most of
it is in the key already (the dataset versions used, and how); what is not — the territory
hierarchy, actors, targets, plans, reference designations, facts rebuilt by a reindex — is
covered by the ``carbon`` counter.
Any transaction that writes one of :data:`CARBON_TABLES` (through the ORM or a statement run
by the session) bumps it just before committing, so a reader that reads the counter first and
the data second never caches new data under an old number, on any process or host.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import event, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from datahub.db.models import DataGeneration

CARBON: Final = "carbon"
#: Tables whose changes are not visible in the dataset versions a result names.
CARBON_TABLES: Final = frozenset(
    {
        "territory",
        "territory_parent",
        "actor",
        "target",
        "plan_version",
        "actor_target",
        "carbon_rollup_edge",
        "carbon_emission_fact",
        "carbon_activity_fact",
        "carbon_land_fact",
        "carbon_climate_fact",
        "carbon_emission_factor",
        "carbon_sequestration_factor",
        "reference_designation",
    }
)
_DIRTY: Final = "datahub.generation.dirty"


def current(session: Session, name: str = CARBON) -> int:
    value = session.scalar(select(DataGeneration.value).where(DataGeneration.name == name))
    return int(value or 0)


def bump(session: Session, name: str = CARBON) -> None:
    """Add one to ``name`` (row lock held to the commit, so bump last)."""
    done = session.execute(
        update(DataGeneration)
        .where(DataGeneration.name == name)
        .values(value=DataGeneration.value + 1)
    )
    if getattr(done, "rowcount", 1) == 0:
        postgres = session.get_bind().dialect.name == "postgresql"
        insert: Any = pg_insert if postgres else sqlite_insert
        session.execute(
            insert(DataGeneration)
            .values(name=name, value=1)
            .on_conflict_do_update(
                index_elements=[DataGeneration.name], set_={"value": DataGeneration.value + 1}
            )
        )


def _mark(session: Session) -> None:
    session.info[_DIRTY] = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(instance), "__tablename__", None)
        if table in CARBON_TABLES:
            _mark(session)
            return


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in CARBON_TABLES:
        _mark(state.session)


@event.listens_for(Session, "before_commit")
def _bump_if_dirty(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        bump(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_DIRTY, None)
