import pytest

from settings import Settings


def test_chat_users_parse_into_credentials(monkeypatch):
    monkeypatch.setenv("CHAT_USERS", " alice:pw1 , bob:p:w2")
    assert Settings().local_credentials() == {"alice": "pw1", "bob": "p:w2"}


def test_malformed_chat_users_are_refused(monkeypatch):
    monkeypatch.setenv("CHAT_USERS", "alice")
    with pytest.raises(ValueError, match="CHAT_USERS"):
        Settings().local_credentials()


def test_secrets_do_not_show_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("CHAT_USERS", "alice:very-secret-password")
    assert "very-secret-password" not in repr(Settings())


def test_data_dir_is_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", "relative/data")
    assert Settings().data_dir == tmp_path / "relative" / "data"


def test_the_router_loads_retrained_weights_once_they_exist_unless_a_file_is_configured(tmp_path):
    settings = Settings(DATA_DIR=tmp_path)
    assert settings.complexity_weights is None, "the shipped weights"
    settings.retrained_weights_file.parent.mkdir(parents=True)
    settings.retrained_weights_file.write_bytes(b"weights")
    assert settings.complexity_weights == tmp_path / "router" / "complexity_weights.npz"
    chosen = tmp_path / "mine.npz"
    assert Settings(DATA_DIR=tmp_path, COMPLEXITY_WEIGHTS_FILE=chosen).complexity_weights == chosen
