"""Bytes in and out behind one Protocol: local folder or S3-compatible bucket."""

from datahub.storage.base import (
    InvalidKey,
    ObjectNotFound,
    Storage,
    StoredObject,
    validate_key,
)
from datahub.storage.factory import StorageConfigError, storage_from_url
from datahub.storage.local import LocalStorage

__all__ = [
    "InvalidKey",
    "LocalStorage",
    "ObjectNotFound",
    "Storage",
    "StorageConfigError",
    "StoredObject",
    "storage_from_url",
    "validate_key",
]
