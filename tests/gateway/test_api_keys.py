"""Issuing, recognising and revoking keys; the operator's static keys; the command line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gateway.api_keys import KeyRing, hash_key, issue_key, list_keys, parse_static_keys, revoke_key
from persistence import create_engine
from tests.support.app_server import REPO


def test_static_keys_parse_as_key_user_pairs():
    assert parse_static_keys(" k1:svc-a , k:with:colons:svc-b,,") == {"k1": "svc-a", "k:with:colons": "svc-b"}
    assert parse_static_keys("") == {}


@pytest.mark.parametrize("text", ["just-a-secret-without-user", "a-secret-0123:", ":svc-user"])
def test_a_malformed_static_key_is_refused_without_echoing_it(text):
    with pytest.raises(ValueError) as caught:
        parse_static_keys(f"good:svc,{text}")
    assert "entry 2" in str(caught.value) and text not in str(caught.value)


async def test_issued_keys_are_random_recognised_and_revocable(engine):
    key, stored = await issue_key(engine, "alice", "laptop")
    other, _ = await issue_key(engine, "alice")
    assert key.startswith("hc-") and len(key) > 40 and key != other
    assert key.startswith(stored.prefix) and len(stored.prefix) < 12
    ring = KeyRing(engine, {"static-secret": "svc"})
    owner = await ring.owner(key)
    assert owner is not None and owner.user == "alice" and owner.key_id == stored.id and not owner.static
    assert (await ring.owner("static-secret")).static
    assert await ring.owner(key + "x") is None
    assert [k.name for k in await list_keys(engine, "alice")] == ["API key", "laptop"]
    assert await revoke_key(engine, "alice", stored.id)
    assert await ring.owner(key) is None


def test_only_a_hash_would_ever_be_compared():
    assert hash_key("abc") == hash_key("abc") != hash_key("abd") and "abc" not in hash_key("abc")


def _cli(data_dir, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "gateway", "keys", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


async def test_the_command_line_creates_lists_and_revokes_a_key(tmp_path):
    # Each run imports chainlit (~5 s here): three runs, the rest is checked in the database directly.
    created = _cli(tmp_path, "create", "--user", "alice", "--name", "laptop")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("hc-") and "not shown again" in created.stderr
    listed = _cli(tmp_path, "list", "--user", "alice")
    assert "laptop" in listed.stdout and "active" in listed.stdout and key not in listed.stdout
    key_id = listed.stdout.split()[0]
    revoked = _cli(tmp_path, "revoke", "--user", "alice", key_id)
    assert revoked.returncode == 0, revoked.stderr
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hybrid_chat.db'}")
    try:
        assert [k.active for k in await list_keys(engine, "alice")] == [False]
    finally:
        await engine.dispose()
