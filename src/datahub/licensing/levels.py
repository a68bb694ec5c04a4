"""Access levels of a licence (contract §2)."""

from __future__ import annotations

from typing import Literal, get_args

AccessLevel = Literal["open", "shared", "restricted"]

ACCESS_LEVELS: tuple[AccessLevel, ...] = get_args(AccessLevel)
