"""The dashboard map's figures, computed once per caller view and data change.

The map shows, for each territory inside, the net of its own trajectory as the carbon service
discloses it to the caller: one trajectory per territory, ~30 for an EPCI. Those figures depend
only on what the trajectory cache keys on (:mod:`datahub.api.trajectory_cache`): the caller's
view of the carbon datasets (the same for every territory scope), the instance's ``carbon``
generation and the settings the maths reads. Kept per process in a small LRU, so a dashboard
visited again before the data changes costs one key, not thirty trajectories.

The usage a cached figure stands for is audited by the dashboard's own trajectory, which reads
the same datasets for the same caller on every visit.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Final

from sqlalchemy.orm import Session

from datahub.accounts.caller import Caller
from datahub.carbon import service as carbon
from datahub.db import generation
from datahub.runtime import Runtime

Nets = dict[str, tuple[float | None, bool]]
#: Settings the maths reads (as the trajectory cache's key).
_SETTINGS: Final = {
    "gwp",
    "secrecy_min_actors",
    "secrecy_max_share",
    "heating_share_residential",
    "heating_share_tertiary",
    "hdd_reference_from",
    "hdd_reference_to",
}


def key_of(
    session: Session,
    runtime: Runtime,
    caller: Caller,
    codes: Sequence[str],
    year: int | None,
) -> str:
    data_generation = generation.current(session)  # first: never cache new data under an old one
    view = carbon.caller_view(
        session,
        runtime.licences,
        runtime.settings,
        caller,
        carbon.Scope(territory=codes[0] if codes else ""),
        carbon.TrajectoryParams().approach,
    )
    material = [
        data_generation,
        view,
        list(codes),
        year,
        runtime.settings.model_dump(mode="json", include=_SETTINGS),
    ]
    encoded = json.dumps(material, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


class NetsMemo:
    """A bounded, thread-safe LRU of the map's figures (one entry per key)."""

    def __init__(self, entries: int = 256) -> None:
        self._entries = entries
        self._items: OrderedDict[str, Nets] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: str, compute: Callable[[], Nets]) -> Nets:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        nets = compute()
        with self._lock:
            self._items[key] = nets
            self._items.move_to_end(key)
            while len(self._items) > self._entries:
                self._items.popitem(last=False)
        return nets
