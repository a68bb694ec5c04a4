"""Where rendered results are kept: an LRU in the process, or Redis shared by every worker.

Keys are digests of everything a result was computed from (see trajectory_cache), so entries
never need invalidating: a change makes new keys, and the old entries age out (LRU eviction,
or Redis's TTL).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any, Protocol

from datahub.settings import Settings

log = logging.getLogger(__name__)

#: Redis entries expire after a day unused (a TTL, refreshed on reads, bounds the memory used).
REDIS_TTL_SECONDS = 86_400


class ResultCache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...


class MemoryCache:
    """A thread-safe LRU bounded by the bytes it holds."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._entries[key] = value
            self._size += len(value)
            while self._size > self.max_bytes:
                _key, evicted = self._entries.popitem(last=False)
                self._size -= len(evicted)


class RedisCache:
    """Entries in Redis, shared by every worker and host. Redis being away is a miss (logged),
    never an error: the result is computed again."""

    def __init__(self, url: str, prefix: str = "datahub:result:") -> None:
        import redis  # the optional dependency: pip install 'datahub[redis]'

        self.prefix = prefix
        self._client: Any = redis.Redis.from_url(url, socket_timeout=0.5)

    def get(self, key: str) -> bytes | None:
        try:
            value = self._client.getex(self.prefix + key, ex=REDIS_TTL_SECONDS)
        except Exception as exc:  # any Redis failure is a miss
            log.warning("result cache unavailable: %s", exc)
            return None
        return bytes(value) if value is not None else None

    def set(self, key: str, value: bytes) -> None:
        try:
            self._client.set(self.prefix + key, value, ex=REDIS_TTL_SECONDS)
        except Exception as exc:
            log.warning("result cache unavailable: %s", exc)


def from_settings(settings: Settings) -> ResultCache:
    url = settings.cache_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url)
    return MemoryCache(settings.cache_max_mb << 20)
