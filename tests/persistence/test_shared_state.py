"""The state several instances share: atomic across engines on one database, and expired rows go away."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from persistence.shared_state import SWEEP_EVERY_S, login_failures, rate_windows, revoked_sessions


async def rows(shared, table) -> int:
    async with shared.engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def test_concurrent_takes_on_two_instances_each_get_their_own_count(two_instances):
    first, second = two_instances
    takes = [instance.take("alice", window_s=60, now=1000.0) for _ in range(10) for instance in (first, second)]
    windows = await asyncio.gather(*takes)
    assert sorted(w.count for w in windows) == list(range(1, 21)), "no two takes read the same count"
    assert {(w.started_at, w.ends_at) for w in windows} == {(1000.0, 1060.0)}
    assert (await second.take("bob", window_s=60, now=1001.0)).count == 1  # per key


async def test_a_window_ends_and_the_next_take_starts_a_new_one(two_instances):
    first, second = two_instances
    await first.take("alice", window_s=60, now=1000.0)
    assert (await second.take("alice", window_s=60, now=1059.0)).count == 2
    renewed = await second.take("alice", window_s=60, now=1060.0)
    assert (renewed.count, renewed.started_at, renewed.ends_at) == (1, 1060.0, 1120.0)


async def test_failed_sign_ins_on_both_instances_lock_the_name_on_both(two_instances):
    first, second = two_instances
    await asyncio.gather(*(instance.login_failed("bob", max_failures=4, lockout_s=300, now=1000.0)
                           for instance in (first, second, first)))
    assert await first.locked_until("bob") == await second.locked_until("bob") == 0.0
    assert await second.login_failed("bob", max_failures=4, lockout_s=300, now=1010.0) == 1310.0
    assert await first.locked_until("bob") == 1310.0
    await first.forget_login_failures("bob")
    assert await second.locked_until("bob") == 0.0


async def test_failures_count_from_the_first_within_the_lockout_and_one_allowed_failure_locks_at_once(two_instances):
    first, second = two_instances
    await first.login_failed("bob", max_failures=2, lockout_s=60, now=1000.0)
    assert await second.login_failed("bob", max_failures=2, lockout_s=60, now=1060.0) < 1060.0, "the first is too old"
    assert await second.login_failed("bob", max_failures=2, lockout_s=60, now=1061.0) == 1121.0
    assert await first.login_failed("eve", max_failures=1, lockout_s=60, now=1000.0) == 1060.0


async def test_a_session_revoked_on_one_instance_is_revoked_on_the_other(two_instances):
    first, second = two_instances
    await first.revoke("digest-1", expires_at=2000.0, now=1000.0)
    await second.revoke("digest-1", expires_at=2000.0, now=1000.0)  # a second sign-out of the same token
    assert await second.is_revoked("digest-1") and await first.is_revoked("digest-1")
    assert not await second.is_revoked("digest-2")


async def test_expired_rows_are_swept_and_live_ones_kept(two_instances):
    first, second = two_instances
    await first.take("alice", window_s=60, now=1000.0)
    await first.login_failed("bob", max_failures=3, lockout_s=300, now=1000.0)
    await first.revoke("old", expires_at=1100.0, now=1000.0)
    await first.revoke("live", expires_at=5000.0, now=1000.0)
    await second.sweep(now=1200.0)
    assert (await rows(first, rate_windows), await rows(first, login_failures)) == (0, 1)
    assert not await first.is_revoked("old") and await first.is_revoked("live")


async def test_writes_sweep_by_themselves_once_in_a_while(two_instances):
    first, _ = two_instances
    await first.take("alice", window_s=SWEEP_EVERY_S, now=1000.0)  # the first write of a process sweeps
    await first.take("bob", window_s=1, now=1001.0)
    await first.take("carol", window_s=60, now=1000.0 + SWEEP_EVERY_S - 1)  # bob's is over, no sweep is due yet
    assert await rows(first, rate_windows) == 3
    await first.revoke("token", expires_at=5000.0, now=1000.0 + SWEEP_EVERY_S)
    assert await rows(first, rate_windows) == 1 and await rows(first, revoked_sessions) == 1
