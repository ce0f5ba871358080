"""The session-signing secret must be set, and long enough, before the app serves anyone."""

from __future__ import annotations

#: HS256 keys shorter than this can be guessed offline from one captured token.
MIN_SECRET_CHARS = 32


def require_auth_secret(secret: str) -> None:
    """Stop the start-up with a message saying what to do (Chainlit's own check comes later and is vaguer)."""
    how = (
        "Create one with `.venv/bin/chainlit create-secret` (or `openssl rand -base64 48`) and set it in the "
        "environment; `make run` creates one in DATA_DIR when it is unset. Keep it stable: changing it signs "
        "everybody out."
    )
    if not secret:
        raise SystemExit(f"CHAINLIT_AUTH_SECRET is not set: it signs the session tokens. {how}")
    if len(secret) < MIN_SECRET_CHARS:
        raise SystemExit(f"CHAINLIT_AUTH_SECRET is too short (at least {MIN_SECRET_CHARS} characters). {how}")
