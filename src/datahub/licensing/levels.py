"""Access levels of a licence (contract §2)."""

from __future__ import annotations

from typing import get_args

# Defined in the shared vocabulary so that the dataset model can type its column with it.
from datahub.vocabulary import AccessLevel

__all__ = ["ACCESS_LEVELS", "AccessLevel"]

ACCESS_LEVELS: tuple[AccessLevel, ...] = get_args(AccessLevel)
