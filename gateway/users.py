"""Who a gateway key's user is now: the same access policy and roles as a sign-in in the chat.

A key outlives the session it was created in, so each request asks again: a user the
policy no longer allows (or whose password account was removed) is refused, and an
administrator is recognised as in the chat (ADMIN_USERS or an accounts-file admin).
"""

from __future__ import annotations

from dataclasses import dataclass

from signin import ADMIN_ROLE, AccessPolicy, AccountStore


@dataclass(frozen=True)
class GatewayUsers:
    policy: AccessPolicy
    accounts: AccountStore | None = None

    def role_of(self, identifier: str) -> str | None:
        """"admin" or "member" when `identifier` may use the app now; None when refused.

        Identifiers are those the chat mints: a login name, an e-mail, or "provider:e-mail".
        """
        provider, sep, rest = identifier.partition(":")
        email = rest if sep and "@" in rest else (identifier if "@" in identifier else None)
        if email is None and self.accounts is not None and identifier not in self.accounts:
            return None  # a password account that no longer exists
        local_admin = self.accounts is not None and self.accounts.is_admin(identifier)
        decision = self.policy.decide(rest if email and sep else identifier, email, local_admin=local_admin)
        return decision.role if decision.allowed else None

    def is_admin(self, identifier: str) -> bool:
        return self.role_of(identifier) == ADMIN_ROLE
