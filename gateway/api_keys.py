"""Gateway API keys: issue (shown once), authenticate, list and revoke; plus the operator's static keys.

A key is `hc-` + 32 random bytes (URL-safe base64), so a plain SHA-256 of it is a safe
stored form (no salt or slow hash needed for that much entropy, and a lookup is one
indexed query). The first characters are kept visible so users can tell keys apart.
Static keys (`GATEWAY_API_KEYS="key:user,..."`) are for services the operator runs; they
live only in the environment.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from persistence import ApiKey, find_active_api_key, list_api_keys, revoke_api_key, store_api_key

KEY_PREFIX = "hc-"
VISIBLE_CHARS = 10  # "hc-" and 7 random characters


@dataclass(frozen=True)
class KeyOwner:
    """Whom a presented key belongs to; `static` keys come from the environment."""

    user: str
    key_id: str
    static: bool = False


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_static_keys(text: str) -> dict[str, str]:
    """`"key1:svc-a,key2:svc-b"` as {key: user}; raises ValueError naming the entry's position, not the key."""
    keys: dict[str, str] = {}
    for position, entry in enumerate(filter(None, (e.strip() for e in text.split(","))), start=1):
        key, sep, user = entry.rpartition(":")
        if not sep or not key.strip() or not user.strip():
            raise ValueError(f"GATEWAY_API_KEYS entry {position} must look like 'key:user'")
        keys[key.strip()] = user.strip()
    return keys


async def issue_key(engine: AsyncEngine, user: str, name: str = "") -> tuple[str, ApiKey]:
    """A new key for `user`: the key itself (show it once, it is not stored) and its stored description."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    stored = await store_api_key(
        engine, key_id=secrets.token_hex(8), user_identifier=user, name=name.strip() or "API key",
        prefix=key[:VISIBLE_CHARS], key_hash=hash_key(key),
    )
    return key, stored


async def list_keys(engine: AsyncEngine, user: str) -> list[ApiKey]:
    return await list_api_keys(engine, user)


async def revoke_key(engine: AsyncEngine, user: str, key_id: str) -> bool:
    """Revoke one of the user's own keys; False when they have no active key with that id."""
    return await revoke_api_key(engine, user, key_id)


class KeyRing:
    """Finds the owner of a presented key among the static keys and the stored ones."""

    def __init__(self, engine: AsyncEngine | None, static_keys: dict[str, str] | None = None) -> None:
        self.engine = engine
        self._static = {hash_key(key): user for key, user in (static_keys or {}).items()}

    async def owner(self, presented: str) -> KeyOwner | None:
        digest = hash_key(presented)
        for known, user in self._static.items():
            if hmac.compare_digest(known, digest):
                return KeyOwner(user, f"static:{known[:8]}", static=True)
        if self.engine is None or not presented.startswith(KEY_PREFIX):
            return None
        stored = await find_active_api_key(self.engine, digest)
        return KeyOwner(stored.user_identifier, stored.id) if stored else None
