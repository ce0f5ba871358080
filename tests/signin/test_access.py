"""The access policy (domains, users, admins) and the failed-password limiter."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from persistence import SharedState, create_engine
from signin.access import ADMIN_ROLE, MEMBER_ROLE, AccessPolicy, Decision, Denial, LoginLimiter
from settings import Settings
from tests.support.clock import Clock


def test_an_empty_policy_lets_everyone_in_as_member():
    policy = AccessPolicy.parse()
    assert not policy.restricted
    assert policy.decide("anyone") == Decision(True, MEMBER_ROLE)
    assert policy.decide("x@anywhere.org", "x@anywhere.org") == Decision(True, MEMBER_ROLE)


def test_allowed_domains_match_the_email_domain_exactly_and_ignore_case():
    policy = AccessPolicy.parse(domains=" Example.com, @corp.test ")
    assert policy.allowed_domains == {"example.com", "corp.test"}
    assert policy.decide("ann@example.com", "Ann@EXAMPLE.com").allowed
    assert policy.decide("bo@corp.test", "bo@corp.test").allowed
    assert policy.decide("eve@evil.test", "eve@evil.test") == Decision(False, denial=Denial.DOMAIN)
    # No subdomains, no suffix tricks.
    assert not policy.decide("x@mail.example.com", "x@mail.example.com").allowed
    assert not policy.decide("x@badexample.com", "x@badexample.com").allowed
    assert not policy.decide("x@example.com.evil.test", "x@example.com.evil.test").allowed


def test_a_domain_policy_needs_a_verified_email_not_a_name_that_looks_like_one():
    policy = AccessPolicy.parse(domains="example.com")
    assert policy.decide("ann@example.com") == Decision(False, denial=Denial.USER)


def test_allowed_users_extend_the_domains():
    policy = AccessPolicy.parse(domains="example.com", users="Contractor@Freelance.test, alice")
    assert policy.decide("contractor@freelance.test", "contractor@freelance.test").allowed
    assert policy.decide("Alice").allowed
    assert policy.decide("ann@example.com", "ann@example.com").allowed
    assert policy.decide("bob") == Decision(False, denial=Denial.USER)


def test_only_listed_users_when_no_domain_is_given():
    policy = AccessPolicy.parse(users="alice")
    assert policy.decide("alice").allowed
    assert policy.decide("ann@example.com", "ann@example.com") == Decision(False, denial=Denial.USER)


def test_admins_are_allowed_and_get_the_admin_role():
    policy = AccessPolicy.parse(domains="example.com", admins="boss@elsewhere.test")
    assert policy.decide("github:boss", "BOSS@elsewhere.test") == Decision(True, ADMIN_ROLE)
    assert policy.decide("ann@example.com", "ann@example.com").role == MEMBER_ROLE
    # The local accounts' administrator is the operator's own account: always allowed, admin.
    assert policy.decide("admin", local_admin=True) == Decision(True, ADMIN_ROLE)


def test_the_policy_comes_from_settings():
    settings = Settings(ALLOWED_EMAIL_DOMAINS="example.com", ALLOWED_USERS="alice", ADMIN_USERS="root@example.com")
    policy = AccessPolicy.from_settings(settings)
    assert policy == AccessPolicy(frozenset({"example.com"}), frozenset({"alice"}), frozenset({"root@example.com"}))


async def test_the_limiter_locks_a_name_after_too_many_failures_and_unlocks_after_the_lockout(engine):
    clock = Clock()
    limiter = LoginLimiter(SharedState(engine), 3, 300, clock=clock)
    for _ in range(2):
        await limiter.failed("alice")
    assert await limiter.retry_after("alice") == 0
    await limiter.failed("ALICE ")  # the same name, whatever the case
    assert await limiter.retry_after("alice") == pytest.approx(300)
    assert await limiter.retry_after("bob") == 0
    clock.now += 299
    assert await limiter.retry_after("alice") == pytest.approx(1)
    clock.now += 1
    assert await limiter.retry_after("alice") == 0


async def test_failures_older_than_the_window_do_not_count_and_a_success_resets(engine):
    clock = Clock()
    limiter = LoginLimiter(SharedState(engine), 3, 60, clock=clock)
    await limiter.failed("alice")
    await limiter.failed("alice")
    clock.now += 61
    await limiter.failed("alice")
    assert await limiter.retry_after("alice") == 0
    await limiter.failed("alice")
    await limiter.succeeded("alice")
    await limiter.failed("alice")
    await limiter.failed("alice")
    assert await limiter.retry_after("alice") == 0


async def test_a_lockout_through_one_instance_holds_on_the_other(two_instances):
    clock = Clock()
    first, second = (LoginLimiter(shared, 3, 300, clock=clock) for shared in two_instances)
    await asyncio.gather(first.failed("alice"), second.failed("Alice"), first.failed("alice"))
    assert await second.retry_after("alice") == pytest.approx(300)
    clock.now += 300
    assert await first.retry_after("alice") == 0


async def test_a_flood_of_made_up_names_is_swept_once_over_and_never_unlocks_a_locked_name(engine):
    clock = Clock()
    shared = SharedState(engine)
    limiter = LoginLimiter(shared, 2, 60, clock=clock)
    await limiter.failed("alice")
    await limiter.failed("alice")
    for i in range(50):
        await limiter.failed(f"random-{i}")
    clock.now += 59
    await shared.sweep(clock.now)
    assert await limiter.retry_after("alice") > 0
    clock.now += 1
    await shared.sweep(clock.now)
    async with engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM login_failures"))).scalar_one() == 0


async def test_an_unreachable_database_does_not_stop_sign_in():
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        limiter = LoginLimiter(SharedState(engine), 1, 60)
        await limiter.failed("alice")
        assert await limiter.retry_after("alice") == 0
        await limiter.succeeded("alice")
    finally:
        await engine.dispose()


def test_the_limiter_rejects_nonsense_limits(engine):
    with pytest.raises(ValueError):
        LoginLimiter(SharedState(engine), 0, 60)
    with pytest.raises(ValueError):
        LoginLimiter(SharedState(engine), 3, 0)
