"""Local password accounts: salted scrypt hashes, never plain passwords.

Two sources, in this order:
- `CHAT_USERS="alice:pw1,bob:pw2"` (development and tests): hashed in memory at start-up.
- Otherwise an accounts file in `DATA_DIR`. On the very first start it does not exist:
  an `admin` account with a random password is created, only its hash is written, and
  the password is returned once so the app can print it in the console.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ADMIN_USER = "admin"
# scrypt cost (n=2**14, r=8, p=1: ~16 MB, ~50 ms a check): RFC 7914's interactive-login setting.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$<salt hex>$<hash hex>`, with a fresh 16-byte salt unless one is given."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of `password` against a `hash_password` string."""
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hash_password(password, salt=bytes.fromhex(salt_hex))
    except ValueError:
        return False
    return hmac.compare_digest(candidate.split("$")[2], digest_hex)


@dataclass(frozen=True)
class AccountStore:
    """Username -> password hash, plus which users are administrators."""

    hashes: dict[str, str]
    admins: frozenset[str]

    def authenticate(self, username: str, password: str) -> bool:
        stored = self.hashes.get(username)
        if stored is None:
            # Spend the same time on unknown users so timing does not reveal who exists.
            verify_password(password, _DUMMY_HASH)
            return False
        return verify_password(password, stored)

    def is_admin(self, username: str) -> bool:
        return username in self.admins

    def __contains__(self, username: object) -> bool:
        """Whether the account exists (a signed-in user's account may have been removed since)."""
        return username in self.hashes


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def load_accounts(credentials: dict[str, str], accounts_file: Path) -> tuple[AccountStore, str | None]:
    """The account store, and the new admin password if this call created the admin account.

    With `credentials` (from CHAT_USERS) the file is not used at all. The first user
    listed there is the administrator.
    """
    if credentials:
        hashes = {user: hash_password(password) for user, password in credentials.items()}
        return AccountStore(hashes, frozenset(list(credentials)[:1])), None
    if accounts_file.exists():
        data = json.loads(accounts_file.read_text(encoding="utf-8"))
        return AccountStore(dict(data["users"]), frozenset(data.get("admins", []))), None
    password = secrets.token_urlsafe(12)
    hashes = {ADMIN_USER: hash_password(password)}
    accounts_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(accounts_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"users": hashes, "admins": [ADMIN_USER]}, handle, indent=2)
    return AccountStore(hashes, frozenset({ADMIN_USER})), password
