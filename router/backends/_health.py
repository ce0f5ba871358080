"""Health answers cached for a short while: the policy asks on every message, a probe is a network call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from router.types import Health


class HealthCache:
    """Run `probe` at most once per TTL; concurrent callers share the one probe in flight."""

    def __init__(self, probe: Callable[[], Awaitable[Health]], *, ok_ttl_s: float = 30.0, failed_ttl_s: float = 5.0):
        self._probe = probe
        self._ok_ttl_s = ok_ttl_s
        self._failed_ttl_s = failed_ttl_s
        self._value: Health | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> Health:
        async with self._lock:
            if self._value is None or time.monotonic() >= self._expires:
                self._value = await self._probe()
                ttl = self._ok_ttl_s if self._value.available else self._failed_ttl_s
                self._expires = time.monotonic() + ttl
            return self._value

