"""Audit seals: the chain head signed with the instance's key, kept in the database and storage.

The signed message is one line of ASCII anyone can rebuild and check with OpenSSL::

    datahub-audit-seal/1 seq=<seq> hash=<hex sha-256> sealed_at=<ISO 8601, UTC, microseconds>

A copy of each seal is written to storage under ``audit/seals/`` as JSON. Verification takes the
seals from both places: one missing from either, or not signed by the key, breaks the chain.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from datahub.audit.keys import PublicKey, SigningKey
from datahub.storage import Storage

log = logging.getLogger(__name__)

FORMAT = "datahub-audit-seal/1"
PREFIX = "audit/seals/"


@dataclass(frozen=True)
class Seal:
    seq: int
    hash: str
    sealed_at: datetime
    key_fingerprint: str
    signature: str  # base64 of the 64-byte Ed25519 signature

    @property
    def message(self) -> bytes:
        return signed_message(self.seq, self.hash, self.sealed_at)

    @property
    def storage_key(self) -> str:
        return f"{PREFIX}{self.seq:012d}-{self.sealed_at.strftime('%Y%m%dT%H%M%S%fZ')}.json"

    def signed_by(self, key: PublicKey | None) -> bool:
        if key is None or self.key_fingerprint != key.fingerprint:
            return False
        try:
            signature = base64.b64decode(self.signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        return key.verifies(signature, self.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seq": self.seq,
            "hash": self.hash,
            "sealed_at": _iso(self.sealed_at),
            "key_fingerprint": self.key_fingerprint,
            "signature": self.signature,
            "signed_message": self.message.decode("ascii"),
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def signed_message(seq: int, hash: str, sealed_at: datetime) -> bytes:
    return f"{FORMAT} seq={seq} hash={hash} sealed_at={_iso(sealed_at)}".encode("ascii")


def sign(key: SigningKey, seq: int, hash: str, sealed_at: datetime) -> Seal:
    signature, public = key.sign(signed_message(seq, hash, sealed_at))
    return Seal(
        seq=seq,
        hash=hash,
        sealed_at=sealed_at,
        key_fingerprint=public.fingerprint,
        signature=base64.b64encode(signature).decode("ascii"),
    )


def _from_copy(data: dict[str, Any]) -> Seal:
    if data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} seal")
    return Seal(
        seq=int(data["seq"]),
        hash=str(data["hash"]),
        sealed_at=datetime.fromisoformat(str(data["sealed_at"])),
        key_fingerprint=str(data["key_fingerprint"]),
        signature=str(data["signature"]),
    )


@dataclass(frozen=True)
class StoredCopy:
    """A storage copy: the seal it holds, or None when the object could not be read as one."""

    key: str
    seal: Seal | None


class SealKeeper:
    """The signing key (a file) and the storage copies of the seals."""

    def __init__(self, key_file: Path, storage: Storage) -> None:
        self.key = SigningKey(key_file)
        self.storage = storage

    def write_copy(self, seal: Seal) -> None:
        body = json.dumps(seal.as_dict(), indent=2).encode("utf-8")
        self.storage.put_stream(seal.storage_key, [body])

    def delete_copy(self, seal: Seal) -> None:
        self.storage.delete(seal.storage_key)

    def copies(self) -> Iterator[StoredCopy]:
        for key in self.storage.list_keys(PREFIX):
            try:
                data = json.loads(b"".join(self.storage.open_stream(key)))
                yield StoredCopy(key, _from_copy(data))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("unreadable audit seal copy %s: %s", key, exc)
                yield StoredCopy(key, None)
