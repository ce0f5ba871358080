"""A backend's line: first come first served, places and estimates, leaving the line."""

from __future__ import annotations

import asyncio

import pytest

from router.admission import Admission
from tests.support.clock import Clock


def test_requests_beyond_the_limit_wait_in_arrival_order():
    line = Admission(limit=2)
    first, second, third, fourth = (line.join() for _ in range(4))

    assert (first.admitted, second.admitted) == (True, True)
    assert (third.place, fourth.place) == (1, 2) and line.waiting == 2

    line.leave(second)
    assert third.admitted and fourth.place == 1
    line.leave(first)
    assert fourth.admitted and line.waiting == 0 and line.running == 2


def test_a_waiting_request_that_leaves_lets_those_behind_it_move_up():
    line = Admission(limit=1)
    running, stopped, behind = (line.join() for _ in range(3))
    assert (stopped.place, behind.place) == (1, 2)

    line.leave(stopped)  # the user pressed stop while it waited

    assert behind.place == 1 and line.waiting == 1
    line.leave(running)
    assert behind.admitted and not stopped.admitted, "the one that left never gets a slot"
    line.leave(stopped)  # leaving twice (the executor's finally) changes nothing
    assert line.running == 1


def test_the_estimate_is_the_place_times_the_recent_service_time_shared_by_the_slots():
    clock = Clock()
    line = Admission(limit=2, clock=clock)
    first, second = line.join(), line.join()
    waiting = [line.join() for _ in range(3)]
    assert waiting[2].estimate_s is None, "nothing measured yet: no guess"

    clock.now += 4
    line.leave(first)
    clock.now += 2  # second served 6 s: mean 5 s
    line.leave(second)

    assert waiting[0].admitted and waiting[1].admitted and waiting[2].place == 1
    assert waiting[2].estimate_s == pytest.approx(1 * 5 / 2)
    assert line.expected_wait_s() == pytest.approx(2 * 5 / 2), "a newcomer would be second in line"


async def test_a_ticket_wakes_when_it_moves_up_and_when_it_is_admitted():
    line = Admission(limit=1)
    running, ahead, ticket = (line.join() for _ in range(3))
    places = []

    async def watch():
        while not ticket.admitted:
            places.append(ticket.place)
            await ticket.moved()

    watcher = asyncio.ensure_future(watch())
    await asyncio.sleep(0)
    line.leave(ahead)
    await asyncio.sleep(0)
    line.leave(running)
    await asyncio.wait_for(watcher, 5)

    assert places == [2, 1] and ticket.admitted


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError):
        Admission(limit=0)
