"""Password and OAuth sign-in under the policy, identities with and without linking, re-checked sessions."""

from __future__ import annotations

import pytest
from chainlit.user import User

from persistence import SharedState
from signin import AccessPolicy, LoginLimiter, SignIn, is_admin, load_accounts, require_auth_secret
from signin.identity import verified_email

GOOGLE_DEFAULT = User(identifier="ann@example.com", metadata={"provider": "google", "image": "https://img/ann"})


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    store, _ = load_accounts(
        {"root": "root-pw", "ann@example.com": "ann-pw", "bob": "bob-pw"}, tmp_path_factory.mktemp("a") / "x.json"
    )
    return store


@pytest.fixture
def make(accounts, engine):
    def sign_in(*, linking=False, **policy) -> SignIn:
        limiter = LoginLimiter(SharedState(engine), 3, 300)
        return SignIn(accounts, AccessPolicy.parse(**policy), limiter, allow_linking=linking)

    return sign_in


async def test_a_correct_password_gives_a_user_with_role_and_provider(make):
    sign_in = make()
    root = await sign_in.with_password("root", "root-pw")
    bob = await sign_in.with_password("bob", "bob-pw")
    assert (root.identifier, root.metadata) == ("root", {"role": "admin", "provider": "credentials"})
    assert bob.metadata["role"] == "member" and is_admin(root) and not is_admin(bob) and not is_admin(None)
    assert await sign_in.with_password("bob", "wrong") is None
    assert await sign_in.with_password("nobody", "bob-pw") is None


async def test_too_many_wrong_passwords_lock_the_name_even_for_the_right_password(make):
    sign_in = make()
    for _ in range(3):
        assert await sign_in.with_password("bob", "guess") is None
    assert await sign_in.with_password("bob", "bob-pw") is None
    assert await sign_in.with_password("root", "root-pw") is not None  # other names are not affected


async def test_the_policy_applies_to_password_users_but_not_to_the_local_admin(make):
    sign_in = make(domains="example.com")
    assert await sign_in.with_password("bob", "bob-pw") is None
    assert await sign_in.with_password("ann@example.com", "ann-pw") is not None
    assert await sign_in.with_password("root", "root-pw") is not None


def test_oauth_users_are_namespaced_by_provider_without_linking(make):
    sign_in = make(domains="example.com")
    profile = {"email": "Ann@Example.com", "email_verified": True, "name": "Ann"}
    user = sign_in.with_oauth("google", profile, GOOGLE_DEFAULT)
    assert user.identifier == "google:ann@example.com"
    assert user.display_name == "Ann"
    assert user.metadata == {"role": "member", "provider": "google", "email": "ann@example.com",
                             "image": "https://img/ann"}
    assert sign_in.with_oauth("generic", profile, GOOGLE_DEFAULT).identifier == "generic:ann@example.com"
    assert sign_in.with_oauth("google", {"email": "eve@evil.test"}, GOOGLE_DEFAULT) is None
    assert sign_in.with_oauth("google", {"email": "ann@example.com", "email_verified": False}, GOOGLE_DEFAULT) is None


def test_with_linking_an_oauth_user_is_the_password_user_of_that_email(make):
    sign_in = make(linking=True)
    user = sign_in.with_oauth("generic", {"email": "ann@example.com"}, GOOGLE_DEFAULT)
    assert user.identifier == "ann@example.com"
    assert sign_in.with_oauth("google", {"email": "ann@example.com"}, GOOGLE_DEFAULT).identifier == user.identifier
    assert sign_in.still_allowed(user)


def test_admin_users_by_email_get_the_admin_role_from_any_provider(make):
    sign_in = make(domains="example.com", admins="boss@corp.test")
    github = {"login": "boss", "emails": [{"email": "boss@corp.test", "primary": True, "verified": True}]}
    user = sign_in.with_oauth("github", github, User(identifier="boss"))
    assert user.identifier == "github:boss@corp.test" and is_admin(user)


@pytest.mark.parametrize(
    ("provider", "profile", "expected"),
    [
        ("generic", {"email": "A@B.test", "email_verified": True}, "a@b.test"),
        ("generic", {"email": "a@b.test", "email_verified": "true"}, "a@b.test"),  # Cognito sends strings
        ("generic", {"email": "a@b.test", "email_verified": False}, None),
        ("google", {"email": "a@b.test", "verified_email": False}, None),
        ("azure-ad", {"mail": "a@b.test"}, "a@b.test"),
        ("generic", {"sub": "123"}, None),
        ("generic", {"email": "not-an-email"}, None),
        ("github", {"emails": [{"email": "x@b.test", "primary": False, "verified": True},
                               {"email": "a@b.test", "primary": True, "verified": True}]}, "a@b.test"),
        ("github", {"emails": [{"email": "a@b.test", "primary": True, "verified": False}]}, None),
        ("github", {"email": "a@b.test"}, None),  # the public profile e-mail is not verified
    ],
)
def test_verified_email(provider, profile, expected):
    assert verified_email(provider, profile) == expected


async def test_sessions_are_rechecked_against_accounts_policy_roles_and_linking(make):
    open_policy = make()
    bob = await open_policy.with_password("bob", "bob-pw")
    ann = open_policy.with_oauth("generic", {"email": "ann@example.com"}, GOOGLE_DEFAULT)
    assert open_policy.still_allowed(bob) and open_policy.still_allowed(ann)

    removed = User(identifier="carol", metadata={"role": "member", "provider": "credentials"})
    assert not open_policy.still_allowed(removed)
    assert not make(users="alice").still_allowed(bob)  # dropped from the policy
    assert not make(admins="bob").still_allowed(bob)  # role changed: sign in again
    assert not make(linking=True).still_allowed(ann)  # minted under the other setting
    forged = User(identifier="generic:someone@else.test", metadata={"role": "member", "provider": "generic",
                                                                     "email": "ann@example.com"})
    assert not open_policy.still_allowed(forged)
    assert not open_policy.still_allowed(User(identifier="generic:x", metadata={"provider": "generic"}))


@pytest.mark.parametrize("secret", ["", "too-short"])
def test_a_missing_or_short_auth_secret_stops_the_start_with_a_clear_message(secret):
    with pytest.raises(SystemExit, match="CHAINLIT_AUTH_SECRET .*chainlit create-secret"):
        require_auth_secret(secret)
    require_auth_secret("x" * 32)
