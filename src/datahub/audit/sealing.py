"""Sealing the audit chain and checking the seals (contract §6).

A seal is its own unit of work: it holds the append lock, so no event and no other seal comes
between reading the head and signing it, and its storage copy is removed again if the database
write does not commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from datahub.audit import chain, repository
from datahub.audit.seals import Seal, SealKeeper, sign
from datahub.db.models import AuditSeal

Transaction = Callable[[], AbstractContextManager[Session]]


def _seal_of(row: AuditSeal) -> Seal:
    return Seal(row.seq, row.hash, row.sealed_at, row.key_fingerprint, row.signature)


def _is_due(session: Session, last: AuditSeal | None, head_seq: int, due_after: timedelta) -> bool:
    """True when the oldest event no seal covers yet is ``due_after`` old."""
    first_unsealed = (last.seq if last is not None else 0) + 1
    if first_unsealed > head_seq:
        return False
    oldest = repository.occurred_at(session, first_unsealed)
    return oldest is not None and datetime.now(UTC) - oldest >= due_after


def seal(
    transaction: Transaction, keeper: SealKeeper, *, due_after: timedelta | None = None
) -> Seal | None:
    """Sign the chain head now; None when there is no event (or, with ``due_after``, when no
    event has waited that long for a seal)."""
    written: Seal | None = None
    try:
        with transaction() as session:
            repository.lock_and_last(session)
            head = repository.head(session)
            if head is None:
                return None
            last = repository.last_seal(session)
            if due_after is not None and not _is_due(session, last, head.seq, due_after):
                return None
            new = sign(keeper.key, head.seq, head.hash, datetime.now(UTC))
            repository.add_seal(
                session,
                AuditSeal(
                    seq=new.seq,
                    hash=new.hash,
                    sealed_at=new.sealed_at,
                    key_fingerprint=new.key_fingerprint,
                    signature=new.signature,
                ),
            )
            keeper.write_copy(new)
            written = new
    except BaseException:
        if written is not None:
            keeper.delete_copy(written)
        raise
    return written


def list_seals(session: Session, offset: int = 0, limit: int | None = None) -> list[Seal]:
    """Seals in chain order (oldest first)."""
    return [_seal_of(row) for row in repository.seals(session, offset, limit)]


def last_seal(session: Session) -> Seal | None:
    row = repository.last_seal(session)
    return None if row is None else _seal_of(row)


def count_seals(session: Session) -> int:
    return repository.count_seals(session)


def _seq_in(key: str) -> int:
    found = re.search(r"(\d+)-[^/]*$", key)
    return int(found.group(1)) if found else 1


def _seal_problems(
    in_db: Iterable[Seal], keeper: SealKeeper
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The ``(seq, hash)`` pairs that valid seals vouch for, and what is wrong with the others."""
    public = keeper.key.existing_public()
    database = set(in_db)
    stored: set[Seal] = set()
    problems: list[tuple[int, str]] = []
    for copy in keeper.copies():
        if copy.seal is None:
            problems.append((_seq_in(copy.key), f"seal copy {copy.key} is unreadable"))
        else:
            stored.add(copy.seal)
    for missing in database - stored:
        problems.append((missing.seq, f"the seal of event {missing.seq} is missing from storage"))
    for missing in stored - database:
        problems.append(
            (missing.seq, f"the seal of event {missing.seq} is missing from the database")
        )
    vouched = []
    for one in sorted(database | stored, key=lambda s: (s.seq, s.sealed_at)):
        if one.signed_by(public):
            vouched.append((one.seq, one.hash))
        else:
            why = " (no key file)" if public is None else ""
            problems.append((one.seq, f"the seal of event {one.seq} does not match the key{why}"))
    return vouched, problems


def verify(
    events: Iterable[Mapping[str, Any]], in_db: Iterable[Seal], keeper: SealKeeper
) -> chain.Verdict:
    """The chain checked against itself and against every seal, in the database and in storage;
    the earliest problem found is named."""
    vouched, problems = _seal_problems(in_db, keeper)
    verdict = chain.verify(events, vouched)
    if problems:
        seq, reason = min(problems)
        if verdict.first_broken is None or seq < verdict.first_broken:
            return chain.Verdict(False, verdict.events, seq, reason)
    return verdict
