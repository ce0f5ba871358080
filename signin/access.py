"""Who may use Hybrid Chat and with which role, and how many wrong passwords a name may try.

One policy for every sign-in, password and OAuth alike, so the operator states it once
(`ALLOWED_EMAIL_DOMAINS`, `ALLOWED_USERS`, `ADMIN_USERS`). No Chainlit here: the app
asks `AccessPolicy.decide` and turns the answer into a Chainlit user or a refusal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from persistence import PersistenceError, SharedState
from settings import Settings

ADMIN_ROLE = "admin"
MEMBER_ROLE = "member"
log = logging.getLogger("hybrid_chat.signin")


class Denial(StrEnum):
    """Why a sign-in was refused; the app shows a message for each."""

    DOMAIN = "domain"  # the e-mail's domain is not in ALLOWED_EMAIL_DOMAINS
    USER = "user"  # not listed in ALLOWED_USERS (and no allowed domain applies)
    UNVERIFIED_EMAIL = "unverified-email"  # the identity provider gave no verified e-mail
    LOCKED = "locked"  # too many failed passwords for this name


@dataclass(frozen=True)
class Decision:
    allowed: bool
    role: str = MEMBER_ROLE
    denial: Denial | None = None


def _csv(text: str) -> frozenset[str]:
    """`"a@x.com, B@y.com"` -> {"a@x.com", "b@y.com"}: comparisons ignore case and blanks."""
    return frozenset(item.strip().lower() for item in text.split(",") if item.strip())


@dataclass(frozen=True)
class AccessPolicy:
    """Allowed e-mail domains, allowed users and administrators (all lower-case).

    With no domain and no user listed, everyone who signs in is allowed. Otherwise a
    person is allowed when listed in `allowed_users` or `admins`, or when their e-mail's
    domain (exact match, no subdomains) is in `allowed_domains`.
    """

    allowed_domains: frozenset[str] = frozenset()
    allowed_users: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, domains: str = "", users: str = "", admins: str = "") -> AccessPolicy:
        """From the comma lists of the environment; domains may be written `@example.com`."""
        return cls(frozenset(d.lstrip("@") for d in _csv(domains)), _csv(users), _csv(admins))

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        return cls.parse(settings.allowed_email_domains, settings.allowed_users, settings.admin_users)

    @property
    def restricted(self) -> bool:
        return bool(self.allowed_domains or self.allowed_users)

    def decide(self, name: str, email: str | None = None, *, local_admin: bool = False) -> Decision:
        """May `name` (a login name or an e-mail) with this verified `email` use the app, and as what?

        `local_admin` marks the administrator of the local password accounts (the first
        CHAT_USERS user, the accounts file's admins): the operator's own account, always allowed.
        """
        known_as = {name.strip().lower()} | ({email.strip().lower()} if email else set())
        if local_admin or known_as & self.admins:
            return Decision(True, ADMIN_ROLE)
        if not self.restricted or known_as & self.allowed_users:
            return Decision(True, MEMBER_ROLE)
        domain = email.rpartition("@")[2].strip().lower() if email and "@" in email else ""
        if domain and domain in self.allowed_domains:
            return Decision(True, MEMBER_ROLE)
        return Decision(False, denial=Denial.DOMAIN if self.allowed_domains and domain else Denial.USER)


class LoginLimiter:
    """Locks a sign-in name for `lockout_s` after `max_failures` wrong passwords within `lockout_s`.

    Per name (case-insensitive) rather than per address, so spreading guesses over many
    clients does not help; the price is that anyone can lock a known name for a while.
    Counted in the database (`persistence.SharedState`), so a lock holds on every instance
    and across restarts. When the database cannot be reached, sign-in goes on unlimited
    (as the rest of the app stays up during an outage) and the log says so.
    """

    def __init__(
        self, shared: SharedState, max_failures: int, lockout_s: float, *, clock: Callable[[], float] = time.time,
    ) -> None:
        if max_failures < 1 or lockout_s <= 0:
            raise ValueError("max_failures must be >= 1 and lockout_s > 0")
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self._shared = shared
        self._clock = clock  # wall-clock seconds: instances compare their times through the database

    @staticmethod
    def _key(name: str) -> str:
        return name.strip().lower()

    async def retry_after(self, name: str) -> float:
        """Seconds until `name` may try again; 0 when it is not locked."""
        try:
            locked_until = await self._shared.locked_until(self._key(name))
        except PersistenceError as exc:
            log.warning("sign-in lockout not checked: %s", exc)
            return 0.0
        return max(0.0, locked_until - self._clock())

    async def failed(self, name: str) -> None:
        try:
            await self._shared.login_failed(self._key(name), max_failures=self.max_failures,
                                            lockout_s=self.lockout_s, now=self._clock())
        except PersistenceError as exc:
            log.warning("failed sign-in not counted: %s", exc)

    async def succeeded(self, name: str) -> None:
        try:
            await self._shared.forget_login_failures(self._key(name))
        except PersistenceError as exc:
            log.warning("failed sign-ins not cleared: %s", exc)
