"""Admission control: a concurrency limit and a first-come-first-served line in front of each backend.

Overload must become waiting, never failure. Without a line, requests beyond what a
backend can run at once waited inside it (the in-process model's worker threads) while
their first-token timeout ran; the timeouts counted as backend failures and the circuit
breaker paused the only local model for everyone. Here a request waits for a slot *before*
it is sent, so its timeouts start when it runs and its breaker never hears of the wait.

A waiting request knows its place (1 = next) and an estimate of its wait from the
recent service times; leaving the line (the user pressed stop, the client went away)
lets everyone behind it move up.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class Ticket:
    """One request's place in a backend's line; `admitted` once it holds a slot."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._moved = asyncio.Event()
        self.admitted = False
        self.admitted_at: float | None = None

    @property
    def place(self) -> int:
        """1 for the next to be let in; 0 once admitted."""
        return 0 if self.admitted else self._admission.place_of(self)

    @property
    def estimate_s(self) -> float | None:
        """About how long until it is let in (None while no request has been timed yet)."""
        return 0.0 if self.admitted else self._admission.expected_wait_s(self.place)

    async def moved(self) -> None:
        """Wait until the ticket moves up the line or is admitted."""
        await self._moved.wait()
        self._moved.clear()

    def _nudge(self) -> None:
        self._moved.set()


class Admission:
    """At most `limit` requests run on one backend at once; the others wait in line, in arrival order.

    Service times (slot taken to slot released) of the last `window` requests feed the estimates.
    """

    def __init__(self, limit: int, *, window: int = 20, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError("a backend must be allowed at least one request at a time")
        self.limit = limit
        self.clock = clock
        self.running = 0
        self._line: deque[Ticket] = deque()
        self._service_times: deque[float] = deque(maxlen=window)

    @property
    def waiting(self) -> int:
        return len(self._line)

    def join(self) -> Ticket:
        """A ticket, admitted at once when a slot is free and nobody is waiting."""
        ticket = Ticket(self)
        self._line.append(ticket)
        self._admit()
        return ticket

    def leave(self, ticket: Ticket) -> None:
        """Give the slot back (its service time is measured) or step out of the line."""
        if ticket.admitted:
            ticket.admitted = False
            self.running -= 1
            self._service_times.append(self.clock() - ticket.admitted_at)
        elif ticket in self._line:
            self._line.remove(ticket)
            for behind in self._line:
                behind._nudge()
        else:
            return
        self._admit()

    def place_of(self, ticket: Ticket) -> int:
        return self._line.index(ticket) + 1

    def mean_service_s(self) -> float | None:
        return sum(self._service_times) / len(self._service_times) if self._service_times else None

    def expected_wait_s(self, place: int | None = None) -> float | None:
        """About how long the request at `place` (default: one joining now) waits for a slot.

        Slots free up at `limit` per mean service time, so the one at place p waits about
        p service times divided by the limit (0 while a slot is free). None: nothing measured yet.
        """
        if place is None:
            place = self.waiting + 1 if self.running >= self.limit else 0
        if place == 0:
            return 0.0
        mean = self.mean_service_s()
        return None if mean is None else place * mean / self.limit

    def _admit(self) -> None:
        moved = False
        while self._line and self.running < self.limit:
            ticket = self._line.popleft()
            ticket.admitted = True
            ticket.admitted_at = self.clock()
            self.running += 1
            ticket._nudge()
            moved = True
        if moved:
            for behind in self._line:
                behind._nudge()
