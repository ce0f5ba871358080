"""Sign-in for the Chainlit app: password and OAuth users under one access policy, checked sessions.

The app builds a `SignIn` from the accounts, the `AccessPolicy` and a `LoginLimiter`
(persistence.access), calls it from `@cl.password_auth_callback` and `@cl.oauth_callback`
(the latter only when chainlit's
`get_configured_oauth_providers()` lists one), and installs the guard with
`install_sign_in_guard(http_app, sign_in.still_allowed)`.
"""

from .guard import PAGE_PATH, install_sign_in_guard
from .identity import PASSWORD_PROVIDER, SignIn, is_admin, verified_email
from .secret import MIN_SECRET_CHARS, require_auth_secret

__all__ = [
    "MIN_SECRET_CHARS", "PAGE_PATH", "PASSWORD_PROVIDER", "SignIn", "install_sign_in_guard", "is_admin",
    "require_auth_secret", "verified_email",
]
