"""Stored gateway keys: hash lookup, listing per owner, revocation only by the owner."""

from __future__ import annotations

import pytest

from persistence import create_engine, find_active_api_key, list_api_keys, revoke_api_key, store_api_key


@pytest.fixture
async def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def test_a_stored_key_is_found_by_hash_until_its_owner_revokes_it(engine):
    key = await store_api_key(engine, key_id="k1", user_identifier="alice", name="laptop", prefix="hc-abcd",
                              key_hash="h1")
    assert key.active and key.created_at.tzinfo is not None
    found = await find_active_api_key(engine, "h1")
    assert found is not None and found.user_identifier == "alice" and found.name == "laptop"
    assert await find_active_api_key(engine, "unknown") is None

    assert not await revoke_api_key(engine, "bob", "k1"), "another user must not revoke alice's key"
    assert await find_active_api_key(engine, "h1") is not None
    assert await revoke_api_key(engine, "alice", "k1")
    assert await find_active_api_key(engine, "h1") is None
    assert not await revoke_api_key(engine, "alice", "k1"), "revoking twice reports nothing to revoke"


async def test_listing_shows_only_the_owners_keys_newest_first_with_revoked_ones_marked(engine):
    await store_api_key(engine, key_id="a1", user_identifier="alice", name="one", prefix="hc-1", key_hash="x1")
    await store_api_key(engine, key_id="a2", user_identifier="alice", name="two", prefix="hc-2", key_hash="x2")
    await store_api_key(engine, key_id="b1", user_identifier="bob", name="bob's", prefix="hc-3", key_hash="x3")
    await revoke_api_key(engine, "alice", "a1")
    keys = await list_api_keys(engine, "alice")
    assert [k.id for k in keys] == ["a2", "a1"]
    assert [k.active for k in keys] == [True, False]
    assert all(not hasattr(k, "key_hash") for k in keys)
