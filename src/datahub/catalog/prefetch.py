"""Run an iterator ahead in a thread, so producing and consuming overlap.

An upload parses and validates the next batch (pyarrow releases the GIL) while the database
stores the current one. The queue holds at most ``depth`` items, so memory stays bounded; an
exception in the producer is raised in the consumer, and a consumer that stops early (an error
while storing) stops the producer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Final, TypeVar, cast

T = TypeVar("T")
_DONE: Final = object()
_POLL_SECONDS: Final = 0.1


def prefetched(items: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """Yield ``items``, produced in a background thread up to ``depth`` items ahead."""
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            offer(exc)
            return
        offer(_DONE)

    producer = threading.Thread(target=produce, name="datahub-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(T, item)
    finally:
        stop.set()
        producer.join()
