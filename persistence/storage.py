"""Element files on local disk: chainlit 2.12 ships storage clients for clouds only.

Files live under `DATA_DIR/files/<object key>`; the data layer uses `<thread id>/<element id>/<name>`
as key, so a file belongs to exactly one thread. URLs point at the authenticated `/files`
route (see `persistence.files`), never at chainlit's unauthenticated `/public`.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from chainlit.data.storage_clients.base import BaseStorageClient

FILES_URL_PREFIX = "/files"
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_file_name(name: str) -> str:
    """A file name that cannot climb out of its folder or hide (keeps letters, digits, . _ - space)."""
    cleaned = re.sub(r"\.{2,}", ".", _UNSAFE_NAME_CHARS.sub("_", name)).strip(" .")
    return cleaned[:150] or "file"


class LocalStorageClient(BaseStorageClient):
    """Stores element bytes below one root folder."""

    def __init__(self, root: Path, url_prefix: str = FILES_URL_PREFIX):
        self.root = Path(root).resolve()
        self.url_prefix = url_prefix.rstrip("/")

    def path_for(self, object_key: str) -> Path:
        """The file of `object_key`; ValueError when the key would leave the root."""
        if not object_key or "\x00" in object_key or object_key.startswith("/"):
            raise ValueError("invalid object key")
        path = (self.root / object_key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError("invalid object key")
        return path

    async def upload_file(
        self,
        object_key: str,
        data: bytes | str,
        mime: str = "application/octet-stream",
        overwrite: bool = True,
        content_disposition: str | None = None,
    ) -> dict[str, Any]:
        path = self.path_for(object_key)
        if path.exists() and not overwrite:
            raise FileExistsError(object_key)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        await asyncio.to_thread(_write_atomically, path, payload)
        return {"object_key": object_key, "url": await self.get_read_url(object_key)}

    async def delete_file(self, object_key: str) -> bool:
        path = self.path_for(object_key)
        if not path.exists():
            return False
        await asyncio.to_thread(path.unlink)
        _remove_empty_parents(path.parent, self.root)
        return True

    async def get_read_url(self, object_key: str) -> str:
        return f"{self.url_prefix}/{quote(object_key)}"

    async def close(self) -> None:
        return None


def _write_atomically(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(payload)
    partial.replace(path)


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
