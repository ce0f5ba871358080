"""A key's user is judged like a sign-in: the access policy, removed accounts and admin roles."""

from __future__ import annotations

from gateway.users import GatewayUsers
from signin import AccessPolicy, AccountStore


def test_roles_follow_the_access_policy_and_the_accounts():
    accounts = AccountStore({"alice": "x", "bob": "x", "admin": "x"}, frozenset({"admin"}))
    users = GatewayUsers(AccessPolicy.parse(domains="example.com", users="alice", admins="boss@example.com"), accounts)
    assert users.role_of("alice") == "member"
    assert users.role_of("admin") == "admin", "the accounts file's admin"
    assert users.role_of("bob") is None, "a password account the policy does not list"
    assert users.role_of("gone") is None, "a removed password account"
    assert users.role_of("github:carol@example.com") == "member", "an OAuth identity of an allowed domain"
    assert users.role_of("github:mallory@evil.test") is None
    assert users.role_of("boss@example.com") == "admin" and users.is_admin("boss@example.com")


def test_without_a_policy_everyone_the_accounts_know_is_a_member():
    users = GatewayUsers(AccessPolicy(), AccountStore({"alice": "x"}, frozenset()))
    assert users.role_of("alice") == "member" and not users.is_admin("alice")
    assert GatewayUsers(AccessPolicy()).role_of("svc-anything") == "member"
