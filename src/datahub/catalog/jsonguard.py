"""Bound the nesting depth of JSON before a parser sees it, in one streaming pass over its bytes.

A parser pays for depth: ijson carries a prefix string per level (200 KB of ``[`` is a
200,000-level prefix stack, tens of gigabytes), Python's ``json`` recurses. :class:`NestingGuard`
is fed the bytes as they are read, before the parser gets them, and raises :class:`TooDeep` as
soon as brackets outside strings nest deeper than its limit. It works on whole chunks with numpy
(quotes, escapes and brackets found by vector operations), so it costs a small fraction of the
parse. On invalid JSON it may judge wrongly, but only past the first invalid byte, where the
parser stops anyway.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

#: Deeper than any table row or GeoJSON feature needs (a MultiPolygon in a FeatureCollection
#: is 7 levels deep), far below where parsers get into trouble.
MAX_DEPTH: Final = 64

_QUOTE: Final = ord('"')
_BACKSLASH: Final = ord("\\")
_STEP: Final = np.zeros(256, np.int64)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
_IS_BRACKET: Final = _STEP != 0


class TooDeep(ValueError):
    """The JSON nests deeper than the guard allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested deeper than {limit} levels")
        self.limit = limit


class NestingGuard:
    """Tracks the bracket depth of the JSON bytes fed to it, chunk after chunk."""

    def __init__(self, max_depth: int = MAX_DEPTH) -> None:
        self.max_depth = max_depth
        self.depth = 0
        self._in_string = False
        self._odd_backslashes = False  # the previous chunk ended in an odd run of backslashes

    def feed(self, chunk: bytes) -> None:
        data = np.frombuffer(chunk, np.uint8)
        if not data.size:
            return
        quotes = np.flatnonzero(data == _QUOTE)
        runs = _backslash_runs(data) if self._has_escapes(data, quotes) else None
        if runs is not None and quotes.size:
            quotes = quotes[~self._escaped(quotes, runs)]
        brackets = np.flatnonzero(_IS_BRACKET[data])
        if brackets.size:
            quotes_before = np.searchsorted(quotes, brackets)
            outside = (quotes_before + int(self._in_string)) % 2 == 0
            running = np.cumsum(_STEP[data[brackets[outside]]])
            if running.size:
                if self.depth + int(running.max()) > self.max_depth:
                    raise TooDeep(self.max_depth)
                self.depth += int(running[-1])
        self._in_string ^= bool(quotes.size % 2)
        self._odd_backslashes = self._ends_odd(data, runs)

    def _has_escapes(self, data: Any, quotes: Any) -> bool:
        if self._odd_backslashes or data[-1] == _BACKSLASH:
            return True
        inner = quotes[quotes > 0]
        return bool(inner.size and np.any(data[inner - 1] == _BACKSLASH))

    def _escaped(self, quotes: Any, runs: Any) -> Any:
        """Which quotes follow an odd number of backslashes (counting the previous chunk's)."""
        before = np.where(quotes > 0, runs[np.maximum(quotes - 1, 0)], 0)
        from_start = before == np.where(quotes > 0, quotes, 0)  # a run reaching the chunk start
        before = before + (from_start & self._odd_backslashes)
        return before % 2 == 1

    def _ends_odd(self, data: Any, runs: Any) -> bool:
        if runs is None or data[-1] != _BACKSLASH:
            return False
        run = int(runs[-1])
        if run == data.size and self._odd_backslashes:
            run += 1
        return run % 2 == 1


def _backslash_runs(data: Any) -> Any:
    """For each position, the length of the run of backslashes ending there (0 if none)."""
    index = np.arange(data.size)
    last_other = np.maximum.accumulate(np.where(data != _BACKSLASH, index, -1))
    return index - last_other
