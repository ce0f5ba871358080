import json
import stat

from signin.accounts import ADMIN_USER, hash_password, load_accounts, verify_password


def test_hashes_are_salted_and_verify():
    first, second = hash_password("secret"), hash_password("secret")
    assert first != second
    assert verify_password("secret", first) and verify_password("secret", second)
    assert not verify_password("Secret", first)
    assert not verify_password("secret", "garbage")


def test_chat_users_are_hashed_in_memory_and_the_first_is_admin(tmp_path):
    store, new_password = load_accounts({"alice": "pw1", "bob": "pw2"}, tmp_path / "accounts.json")
    assert new_password is None
    assert not (tmp_path / "accounts.json").exists()
    assert store.authenticate("alice", "pw1") and store.authenticate("bob", "pw2")
    assert not store.authenticate("alice", "pw2") and not store.authenticate("carol", "pw1")
    assert store.is_admin("alice") and not store.is_admin("bob")


def test_first_start_creates_an_admin_with_a_random_password_stored_only_as_a_hash(tmp_path):
    path = tmp_path / "accounts.json"
    store, password = load_accounts({}, path)
    assert password and len(password) >= 12
    assert store.authenticate(ADMIN_USER, password)
    text = path.read_text()
    assert password not in text
    assert json.loads(text)["users"][ADMIN_USER].startswith("scrypt$")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    again, no_password = load_accounts({}, path)
    assert no_password is None
    assert again.authenticate(ADMIN_USER, password)

    _, other_password = load_accounts({}, tmp_path / "elsewhere.json")
    assert other_password != password
