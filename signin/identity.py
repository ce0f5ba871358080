"""Turn a checked password or an OAuth profile into a Chainlit user, under the access policy.

Identifiers: a password user is their account name (`alice`, `ann@example.com`). An OAuth
user is `<provider>:<verified e-mail>` (`google:ann@example.com`), so the same e-mail at a
password account or at another provider is a *different* user: whoever controls an e-mail
at some identity provider does not thereby get someone else's chats. With
`ALLOW_ACCOUNT_LINKING` an OAuth user is the bare e-mail, i.e. the same user as the
password account of that name and as the same e-mail at any other provider.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from chainlit.user import User

from .access import ADMIN_ROLE, AccessPolicy, Decision, Denial, LoginLimiter
from .accounts import AccountStore
from .guard import record_denial

PASSWORD_PROVIDER = "credentials"


def is_admin(user: User | None) -> bool:
    """Whether the signed-in user has the admin role (may see usage across users)."""
    return bool(user and (user.metadata or {}).get("role") == ADMIN_ROLE)


def verified_email(provider_id: str, profile: Mapping[str, Any]) -> str | None:
    """The provider-confirmed e-mail of an OAuth profile, lower-cased; None when there is none.

    GitHub lists e-mails with a `verified` flag (the primary one counts). OpenID Connect
    providers send `email_verified` (Google's v2 API: `verified_email`); an e-mail flagged
    unverified is refused, one without a flag (Azure AD's `mail`) is trusted.
    """
    if provider_id == "github":
        emails = profile.get("emails") or []
        chosen = next((e for e in emails if isinstance(e, dict) and e.get("primary") and e.get("verified")), None)
        email = chosen.get("email") if chosen else None
    else:
        email = profile.get("email") or profile.get("mail")
        for flag in ("email_verified", "verified_email"):
            if flag in profile and str(profile[flag]).lower() not in ("true", "1"):
                return None
    return email.strip().lower() if isinstance(email, str) and "@" in email else None


class SignIn:
    """Password and OAuth sign-in for the app's callbacks, and whether a signed-in user still may use it."""

    def __init__(
        self, accounts: AccountStore, policy: AccessPolicy, limiter: LoginLimiter, *, allow_linking: bool = False
    ) -> None:
        self.accounts = accounts
        self.policy = policy
        self.limiter = limiter
        self.allow_linking = allow_linking

    async def with_password(self, username: str, password: str) -> User | None:
        """The user for a correct password of an allowed account; None (with the reason recorded) otherwise."""
        if await self.limiter.retry_after(username):
            record_denial(Denial.LOCKED)
            return None
        # scrypt is deliberately slow: keep it off the event loop.
        if not await asyncio.to_thread(self.accounts.authenticate, username, password):
            await self.limiter.failed(username)
            return None
        await self.limiter.succeeded(username)
        decision = self._decide_password(username)
        if not decision.allowed:
            record_denial(decision.denial)
            return None
        return User(identifier=username, metadata={"role": decision.role, "provider": PASSWORD_PROVIDER})

    def with_oauth(self, provider_id: str, profile: Mapping[str, Any], default_user: User) -> User | None:
        """The user for an OAuth profile with a verified, allowed e-mail; None (reason recorded) otherwise."""
        email = verified_email(provider_id, profile)
        if email is None:
            record_denial(Denial.UNVERIFIED_EMAIL)
            return None
        decision = self._decide_oauth(email)
        if not decision.allowed:
            record_denial(decision.denial)
            return None
        metadata = {"role": decision.role, "provider": provider_id, "email": email}
        if image := (default_user.metadata or {}).get("image"):
            metadata["image"] = image
        name = profile.get("name")
        return User(
            identifier=self.oauth_identifier(provider_id, email),
            display_name=name if isinstance(name, str) and name else None,
            metadata=metadata,
        )

    def oauth_identifier(self, provider_id: str, email: str) -> str:
        return email if self.allow_linking else f"{provider_id}:{email}"

    def still_allowed(self, user: User) -> bool:
        """Whether a session token's user would be let in now, with the same role.

        Refuses removed password accounts, users the policy no longer allows, changed
        roles (a revoked admin gets a member session at the next sign-in) and OAuth
        identities minted under the other linking setting.
        """
        metadata = user.metadata or {}
        if metadata.get("provider") == PASSWORD_PROVIDER:
            if user.identifier not in self.accounts:
                return False
            decision = self._decide_password(user.identifier)
        else:
            email = metadata.get("email")
            provider_id = metadata.get("provider")
            if not isinstance(email, str) or user.identifier != self.oauth_identifier(str(provider_id), email):
                return False
            decision = self._decide_oauth(email)
        return decision.allowed and decision.role == metadata.get("role")

    def _decide_password(self, username: str) -> Decision:
        email = username if "@" in username else None
        return self.policy.decide(username, email, local_admin=self.accounts.is_admin(username))

    def _decide_oauth(self, email: str) -> Decision:
        # A linked OAuth sign-in is the password account of that name, admin rights included.
        local_admin = self.allow_linking and self.accounts.is_admin(email)
        return self.policy.decide(email, email, local_admin=local_admin)
