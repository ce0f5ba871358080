"""Element files on local disk."""

import pytest

from persistence import LocalStorageClient
from persistence.storage import safe_file_name


async def test_upload_read_url_and_delete(tmp_path):
    storage = LocalStorageClient(tmp_path / "files")
    uploaded = await storage.upload_file("t1/e1/notes.txt", "hello", mime="text/plain")
    assert uploaded == {"object_key": "t1/e1/notes.txt", "url": "/files/t1/e1/notes.txt"}
    assert (tmp_path / "files" / "t1" / "e1" / "notes.txt").read_text() == "hello"
    with pytest.raises(FileExistsError):
        await storage.upload_file("t1/e1/notes.txt", b"x", overwrite=False)
    assert await storage.delete_file("t1/e1/notes.txt")
    assert not (tmp_path / "files" / "t1").exists()  # empty folders go too
    assert not await storage.delete_file("t1/e1/notes.txt")


@pytest.mark.parametrize("key", ["../escape.txt", "/etc/passwd", "a/../../escape", "", "a\x00b"])
async def test_keys_cannot_leave_the_root(tmp_path, key):
    storage = LocalStorageClient(tmp_path / "files")
    with pytest.raises(ValueError):
        await storage.upload_file(key, b"x")


def test_safe_file_name():
    assert safe_file_name("../../etc/passwd") == "_._etc_passwd"
    assert safe_file_name("Résumé 2026.pdf") == "R_sum_ 2026.pdf"
    assert safe_file_name("...") == "file"
