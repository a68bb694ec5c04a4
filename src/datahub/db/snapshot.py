"""Whole-table SQL for moving an instance (``datahub.transfer``): every row of every table out,
batches of rows back in, and PostgreSQL's serial sequences moved past the imported ids."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause

from datahub.db.base import Base


def tables() -> Sequence[Table]:
    """Every table of the schema, parents before children."""
    return Base.metadata.sorted_tables


def records(session: Session, table: Table) -> Iterator[dict[str, Any]]:
    query = select(table).order_by(*table.primary_key.columns)
    return (dict(row._mapping) for row in session.execute(query))


def insert_records(session: Session, table: Table, batch: list[dict[str, Any]]) -> None:
    session.execute(insert(table), batch)


def is_empty(session: Session, table: FromClause) -> bool:
    return not session.scalar(select(func.count()).select_from(table))


def reset_sequences(session: Session) -> None:
    """PostgreSQL: move each serial sequence past the imported ids."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1:
            continue
        sequence = session.scalar(
            text("SELECT pg_get_serial_sequence(:t, :c)"),
            {"t": f'"{table.name}"', "c": keys[0].name},
        )
        if sequence:
            highest = int(session.scalar(select(func.max(keys[0]))) or 0)
            session.execute(
                text("SELECT setval(:s, :v, :called)"),
                {"s": sequence, "v": max(highest, 1), "called": highest > 0},
            )
