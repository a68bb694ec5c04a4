"""Batches produced one step ahead in a thread: same items, errors raised, producer stopped."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from datahub.catalog.prefetch import prefetched
from datahub.errors import ValidationFailed


def test_items_arrive_in_order() -> None:
    assert list(prefetched(iter(range(100)), depth=2)) == list(range(100))


def test_an_error_in_the_producer_is_raised_in_the_consumer_after_the_good_items() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise ValidationFailed(detail="row 2 is wrong")

    batches = prefetched(items())
    assert next(batches) == 1
    with pytest.raises(ValidationFailed, match="row 2 is wrong"):
        next(batches)


def test_a_consumer_that_stops_stops_the_producer() -> None:
    produced = []

    def items() -> Iterator[int]:
        for i in range(1_000):
            produced.append(i)
            yield i

    for item in prefetched(items(), depth=2):
        if item == 3:
            break
    # The producer ran at most a queue's depth (and the item in hand) ahead, then stopped.
    assert len(produced) <= 3 + 1 + 2 + 1
    assert not [t for t in threading.enumerate() if t.name == "datahub-prefetch"]
