"""Session tokens with a unique id (`jti`), so that every sign-in is a session of its own.

Chainlit 2.12's `create_jwt` signs the user and the issue and expiry times in whole seconds:
two sign-ins of one user within the same second got the identical token, and signing out
on one device (the guard revokes that token) ended the other session too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import jwt
from chainlit.auth import get_jwt_secret
from chainlit.user import User

_ALGORITHM = "HS256"  # what chainlit signs and checks with


def with_token_id(create_jwt: Callable[[User], str]) -> Callable[[User], str]:
    """`create_jwt` whose tokens also carry a random `jti`; chainlit's own claims are kept as they are."""

    def create(user: User) -> str:
        secret = get_jwt_secret()
        claims = jwt.decode(create_jwt(user), secret, algorithms=[_ALGORITHM])
        claims["jti"] = uuid.uuid4().hex
        return jwt.encode(claims, secret, algorithm=_ALGORITHM)

    create.adds_token_id = True
    return create


def issue_unique_tokens() -> None:
    """Make chainlit's sign-in routes issue tokens with a unique id (once per process)."""
    from chainlit import server

    if not getattr(server.create_jwt, "adds_token_id", False):
        server.create_jwt = with_token_id(server.create_jwt)
