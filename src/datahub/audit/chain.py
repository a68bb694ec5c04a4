"""The hash chain: canonical JSON of an event, its SHA-256, and verification of a sequence.

An event's hash covers every field but ``hash`` itself, including ``seq`` and ``prev_hash``, so
editing a field, deleting an event or reordering events all break the chain at a nameable place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def canonical(fields: Mapping[str, Any]) -> bytes:
    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat(timespec="microseconds")
        raise TypeError(f"not serialisable in an audit event: {type(value).__name__}")

    return json.dumps(
        dict(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=default
    ).encode("utf-8")


def digest(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


@dataclass(frozen=True)
class Verdict:
    valid: bool
    events: int
    first_broken: int | None
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "events": self.events,
            "first_broken": self.first_broken,
            "reason": self.reason,
        }


def verify(events: Iterable[Mapping[str, Any]], sealed: Iterable[tuple[int, str]] = ()) -> Verdict:
    """Walk events in ``seq`` order; name the first one altered, removed or out of place.

    Each mapping holds every stored field, ``hash`` included. A removed event shows as a gap: the
    first missing ``seq`` is named. ``sealed`` holds ``(seq, hash)`` pairs from signatures checked
    by the caller: a chain rewritten and re-hashed, or cut back past a seal, fails at the first
    event the seals no longer vouch for.
    """
    checkpoints = sorted(set(sealed))
    expected_seq, previous, count, vouched = 1, GENESIS, 0, 0
    for event in events:
        count += 1
        seq = int(event["seq"])
        if seq != expected_seq:
            return Verdict(False, count, expected_seq, f"event {expected_seq} is missing")
        if event["prev_hash"] != previous:
            return Verdict(False, count, seq, "previous-hash link does not match")
        body = {k: v for k, v in event.items() if k != "hash"}
        if digest(body) != event["hash"]:
            return Verdict(False, count, seq, "event content does not match its hash")
        while checkpoints and checkpoints[0][0] == seq:
            if checkpoints.pop(0)[1] != event["hash"]:
                return Verdict(
                    False,
                    count,
                    vouched + 1,
                    f"events {vouched + 1} to {seq} differ from the seal of event {seq}",
                )
            vouched = seq
        previous, expected_seq = event["hash"], seq + 1
    if checkpoints:
        sealed_seq = checkpoints[-1][0]
        return Verdict(
            False,
            count,
            expected_seq,
            f"event {expected_seq} is missing (the seal of event {sealed_seq} covers it)",
        )
    return Verdict(True, count, None, None)
