"""The access policy (domains, users, admins) and the failed-password limiter."""

from __future__ import annotations

import pytest

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


def test_the_limiter_locks_a_name_after_too_many_failures_and_unlocks_after_the_lockout():
    clock = Clock()
    limiter = LoginLimiter(3, 300, clock=clock)
    for _ in range(2):
        limiter.failed("alice")
    assert limiter.retry_after("alice") == 0
    limiter.failed("ALICE ")  # the same name, whatever the case
    assert limiter.retry_after("alice") == pytest.approx(300)
    assert limiter.retry_after("bob") == 0
    clock.now += 299
    assert limiter.retry_after("alice") == pytest.approx(1)
    clock.now += 1
    assert limiter.retry_after("alice") == 0


def test_failures_older_than_the_window_do_not_count_and_a_success_resets():
    clock = Clock()
    limiter = LoginLimiter(3, 60, clock=clock)
    limiter.failed("alice")
    limiter.failed("alice")
    clock.now += 61
    limiter.failed("alice")
    assert limiter.retry_after("alice") == 0
    limiter.failed("alice")
    limiter.succeeded("alice")
    limiter.failed("alice")
    limiter.failed("alice")
    assert limiter.retry_after("alice") == 0


def test_a_flood_of_made_up_names_stays_bounded_and_never_unlocks_a_locked_name():
    clock = Clock()
    limiter = LoginLimiter(2, 60, clock=clock, max_tracked=50)
    limiter.failed("alice")
    limiter.failed("alice")
    for i in range(500):
        limiter.failed(f"random-{i}")
    assert len(limiter._names) <= 51
    assert limiter.retry_after("alice") > 0


def test_the_limiter_rejects_nonsense_limits():
    with pytest.raises(ValueError):
        LoginLimiter(0, 60)
    with pytest.raises(ValueError):
        LoginLimiter(3, 0)
