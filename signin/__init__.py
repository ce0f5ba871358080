"""Sign-in: who may use Hybrid Chat and as what, local password accounts, and checked sessions.

Owns the access policy (`AccessPolicy`, roles, the failed-password `LoginLimiter`), the local
accounts (`load_accounts` -> `AccountStore`, salted scrypt hashes) and the Chainlit side of
sign-in. The app builds a `SignIn` from the accounts, the policy and a limiter, calls it from
`@cl.password_auth_callback` and `@cl.oauth_callback` (the latter only when chainlit's
`get_configured_oauth_providers()` lists one), and installs the guard with
`install_sign_in_guard(http_app, sign_in.still_allowed, shared)`. Lockouts and sign-outs are kept in
the database (`persistence.SharedState`), so they hold on every instance. The gateway asks the same policy and
accounts about API-key users.
"""

from .access import ADMIN_ROLE, AccessPolicy, LoginLimiter
from .accounts import AccountStore, load_accounts
from .guard import install_sign_in_guard
from .identity import SignIn, is_admin
from .secret import require_auth_secret

__all__ = [
    "ADMIN_ROLE", "AccessPolicy", "AccountStore", "LoginLimiter", "SignIn", "install_sign_in_guard", "is_admin",
    "load_accounts", "require_auth_secret",
]
