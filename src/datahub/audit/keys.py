"""The Ed25519 key that signs audit seals, kept in a file outside the database (contract §6).

Whoever can rewrite the database cannot forge a seal without this file; the governance committee
keeps copies of the public key and checks seals without trusting the operator.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"


@dataclass(frozen=True)
class PublicKey:
    """The verifying half, in the forms a committee member may want to keep."""

    key: Ed25519PublicKey

    @property
    def raw(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    @property
    def raw_base64(self) -> str:
        return base64.b64encode(self.raw).decode("ascii")

    @property
    def fingerprint(self) -> str:
        """``sha256:`` and the hex SHA-256 of the 32 raw public-key bytes."""
        return "sha256:" + hashlib.sha256(self.raw).hexdigest()

    def verifies(self, signature: bytes, message: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def _create(path: Path) -> None:
    """Write a new private key, readable by its owner only, unless one appeared meanwhile.

    The key is written to a temporary file then hard-linked into place: linking never replaces
    an existing file, so two processes creating the key at once end up sharing one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


class SigningKey:
    """The private key at ``path``: created on first use (mode 0600), then only read."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.is_file()

    def _private(self) -> Ed25519PrivateKey:
        if not self.exists():
            _create(self.path)
        loaded = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{self.path} does not hold an Ed25519 private key")
        return loaded

    def sign(self, message: bytes) -> tuple[bytes, PublicKey]:
        private = self._private()
        return private.sign(message), PublicKey(private.public_key())

    def public(self) -> PublicKey:
        return PublicKey(self._private().public_key())

    def existing_public(self) -> PublicKey | None:
        """The public key, or None (and no key created) when there is no key file yet."""
        return self.public() if self.exists() else None
