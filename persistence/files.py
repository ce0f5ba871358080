"""The authenticated `/files/...` route serving element files to whoever may see their thread.

Chainlit serves `/public` to anyone; element files are private. The route finds the element
by its storage key, asks `may_read(user_identifier, thread_id)` (default: the thread's author;
projects can widen it later) and answers 404 both for a missing file and a forbidden one, so a
stranger cannot even learn that a file exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.responses import FileResponse

from .data_layer import HybridDataLayer
from .storage import FILES_URL_PREFIX, LocalStorageClient

ReadPolicy = Callable[[str, str], Awaitable[bool]]
# Shown in the browser; anything else (HTML, SVG, scripts...) downloads, so a file cannot run
# script on the app's origin.
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain",
                "text/csv", "application/json", "audio/", "video/")


def thread_author_policy(data_layer: HybridDataLayer) -> ReadPolicy:
    """Only the author of a thread may read its files."""

    async def may_read(user_identifier: str, thread_id: str) -> bool:
        author = await data_layer.get_thread_author(thread_id)
        return bool(author) and author == user_identifier

    return may_read


def _chainlit_current_user() -> Callable[..., Awaitable[Any]]:
    from chainlit.auth import get_current_user

    return get_current_user


def make_file_router(
    data_layer: HybridDataLayer,
    may_read: ReadPolicy | None = None,
    current_user: Callable[..., Awaitable[Any]] | None = None,
    prefix: str = FILES_URL_PREFIX,
) -> APIRouter:
    """A router to include in chainlit's FastAPI app *before* its catch-all route.

    `current_user` defaults to chainlit's `get_current_user` (JWT in the `access_token`
    cookie or the Authorization header).
    """
    storage = data_layer.storage_provider
    if not isinstance(storage, LocalStorageClient):
        raise TypeError("the /files route serves a LocalStorageClient's files")
    policy = may_read or thread_author_policy(data_layer)
    router = APIRouter()

    @router.get(prefix + "/{object_key:path}")
    async def read_file(object_key: str, user: Any = Depends(current_user or _chainlit_current_user())) -> FileResponse:
        if user is None:
            raise HTTPException(status_code=401, detail="Sign in to open files")
        element = await data_layer.get_element_by_object_key(object_key)
        if element is None or not element.get("threadId") or not await policy(user.identifier, element["threadId"]):
            raise HTTPException(status_code=404, detail="File not found")
        path = storage.path_for(object_key)
        if not path.is_file():
            raise HTTPException(status_code=404, detail="File not found")
        mime = element.get("mime") or "application/octet-stream"
        inline = mime.startswith(INLINE_TYPES)
        return FileResponse(
            path,
            media_type=mime,
            filename=element.get("name") or path.name,
            content_disposition_type="inline" if inline else "attachment",
            headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
        )

    return router


def install_file_route(app: FastAPI, data_layer: HybridDataLayer, may_read: ReadPolicy | None = None) -> APIRouter:
    """Put the `/files` route in front of chainlit's catch-all `/{full_path:path}` (which would
    otherwise answer with the frontend's index.html). Returns the router (to remove it in tests)."""
    router = make_file_router(data_layer, may_read)
    app.router.routes[0:0] = router.routes
    return router
