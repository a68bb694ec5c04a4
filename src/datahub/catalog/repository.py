"""SQL for datasets, versions and rows, including the bulk paths for ingest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Select, Table, delete, func, select
from sqlalchemy.orm import Session
from text_unidecode import unidecode

from datahub.catalog import rowstore
from datahub.db.models import Dataset, DatasetTerritory, DatasetVersion
from datahub.db.paging import count


def get(session: Session, dataset_id: str, *, for_update: bool = False) -> Dataset | None:
    if for_update and session.get_bind().dialect.name == "postgresql":
        return session.scalars(
            select(Dataset).where(Dataset.id == dataset_id).with_for_update()
        ).first()
    return session.get(Dataset, dataset_id)


def exists(session: Session, dataset_id: str) -> bool:
    return session.scalar(select(Dataset.id).where(Dataset.id == dataset_id)) is not None


def ids_of_producer(session: Session, organization_id: str) -> Sequence[str]:
    return session.scalars(
        select(Dataset.id).where(Dataset.organization_id == organization_id).order_by(Dataset.id)
    ).all()


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_query(
    *,
    q: str | None,
    licence: str | None,
    level: str | None,
    kind: str | None,
    producer: str | None,
    territories: set[str] | None,
    hide_restricted: bool,
) -> Select[Any]:
    query = select(Dataset)
    if hide_restricted:
        query = query.where(Dataset.level != "restricted")
    if licence is not None:
        query = query.where(Dataset.licence_id == licence)
    if level is not None:
        query = query.where(Dataset.level == level)
    if kind is not None:
        query = query.where(Dataset.kind == kind)
    if producer is not None:
        query = query.where(Dataset.organization_id == producer)
    if territories is not None:
        covered = select(DatasetTerritory.dataset_id).where(
            DatasetTerritory.territory_code.in_(territories)
        )
        query = query.where(Dataset.id.in_(covered))
    for word in fold(q or "").split():
        query = query.where(Dataset.search_text.like(_like(word), escape="\\"))
    return query


def fold(text: str) -> str:
    """Lower case without accents: "Énergie" and "energie" match."""
    return str(unidecode(text)).lower()


def search_text(title: str, description: str, tags: Iterable[str]) -> str:
    return fold(" ".join([title, description, *tags]))


def page(
    session: Session, query: Select[Any], offset: int, limit: int
) -> tuple[Sequence[Dataset], int]:
    total = count(session, query)
    rows = list(
        session.scalars(
            query.order_by(Dataset.updated_at.desc(), Dataset.id).offset(offset).limit(limit)
        )
    )
    return rows, total


def all_matching(session: Session, query: Select[Any]) -> Sequence[Dataset]:
    return list(session.scalars(query.order_by(Dataset.id)))


def territories_of(session: Session, dataset_ids: Sequence[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {d: [] for d in dataset_ids}
    if not dataset_ids:
        return result
    rows = session.execute(
        select(DatasetTerritory.dataset_id, DatasetTerritory.territory_code)
        .where(DatasetTerritory.dataset_id.in_(dataset_ids))
        .order_by(DatasetTerritory.territory_code)
    )
    for dataset_id, code in rows:
        result[dataset_id].append(code)
    return result


def set_territories(session: Session, dataset_id: str, codes: Iterable[str]) -> None:
    session.execute(delete(DatasetTerritory).where(DatasetTerritory.dataset_id == dataset_id))
    session.add_all(DatasetTerritory(dataset_id=dataset_id, territory_code=c) for c in codes)


def add(session: Session, obj: Dataset | DatasetVersion) -> None:
    session.add(obj)
    session.flush()


def delete_dataset(session: Session, dataset: Dataset) -> None:
    session.delete(dataset)
    session.flush()


def versions(session: Session, dataset_id: str) -> Sequence[DatasetVersion]:
    return session.scalars(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset_id)
        .order_by(DatasetVersion.number)
    ).all()


def version(session: Session, dataset_id: str, number: int) -> DatasetVersion | None:
    return session.scalars(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset_id, DatasetVersion.number == number
        )
    ).first()


def next_version_number(session: Session, dataset_id: str) -> int:
    last = session.scalar(
        select(func.max(DatasetVersion.number)).where(DatasetVersion.dataset_id == dataset_id)
    )
    return int(last or 0) + 1


def all_versions(session: Session) -> Sequence[DatasetVersion]:
    return session.scalars(select(DatasetVersion).order_by(DatasetVersion.id)).all()


def storage_keys(session: Session) -> set[str]:
    return set(session.scalars(select(DatasetVersion.storage_key)))


# ---- rows -------------------------------------------------------------------------------------


def rows_table(version: DatasetVersion) -> tuple[Table, list[rowstore.RowColumn]]:
    columns = rowstore.layout(version.columns)
    return rowstore.table(version.id, columns), columns


def create_rows_table(session: Session, version: DatasetVersion) -> Table:
    rows, _columns = rows_table(version)
    rowstore.create(session.connection(), rows)
    return rows


def rows_loader(session: Session, version: DatasetVersion) -> rowstore.Loader:
    """A loader appending batches to the version's (new) rows table; use it as a context."""
    rows, columns = rows_table(version)
    return rowstore.loader(session.connection(), rows, columns)


def finish_rows_table(session: Session, version: DatasetVersion) -> None:
    rowstore.finish(session.connection(), rows_table(version)[0])


def drop_rows_tables(session: Session, versions: Iterable[DatasetVersion]) -> None:
    for version in versions:
        rowstore.drop(session.connection(), rows_table(version)[0])


def count_rows(session: Session, query: Select[Any]) -> int:
    return count(session, query)


def fetch_rows(session: Session, query: Select[Any]) -> Sequence[Any]:
    return session.execute(query).all()


def stream_rows(session: Session, query: Select[Any]) -> Iterator[Any]:
    yield from session.execute(query.execution_options(yield_per=5000))
