"""What the policy knows of load: each provider's expected wait in its line, and how long a message may wait.

The lines themselves are `router.admission`; this is the snapshot a routing decision reads,
so the policy stays a pure function of its inputs (and its tests need no running backend).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from router.catalog import ModelSpec


@dataclass(frozen=True)
class Load:
    """Expected waits per provider (None: not measured yet, taken as no wait) and the two wait limits.

    `local_max_wait_s`: an Auto message that is not private goes elsewhere rather than wait longer
    for a local model. `max_wait_s`: no private message is made to wait longer; it is told to try again.
    """

    waits: Mapping[str, float | None] = field(default_factory=dict)
    local_max_wait_s: float = 10.0
    max_wait_s: float = 3600.0

    def wait_s(self, spec: ModelSpec) -> float:
        return self.waits.get(spec.provider) or 0.0

    def too_long(self, spec: ModelSpec) -> bool:
        """A wait beyond `local_max_wait_s`: worth going elsewhere, when the message may."""
        return self.wait_s(spec) > self.local_max_wait_s

    def retry_after_s(self, spec: ModelSpec) -> float | None:
        """None while the wait is within the hard limit; else about when the line will be short enough."""
        wait = self.wait_s(spec)
        return None if wait <= self.max_wait_s else float(max(1, math.ceil(wait - self.max_wait_s)))
