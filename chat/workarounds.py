"""Every workaround for a Chainlit 2.12 defect, in one place, so each can go when Chainlit is upgraded.

Checked against chainlit==2.12.0 (requirements.txt). Re-test each with a newer version:

1. Uploads in progress live in `<app folder>/.files`, which Chainlit deletes whole when any
   process stops: a second process from the same folder (another instance, a test server)
   lost its users' uploads. `use_private_upload_folder` gives each process its own.
2. An Ask* message inside an action callback restarts the "running" indicator after the answer
   and never ends it, which keeps every button disabled. `action_callback` ends the task.
3. HTTP routes that answered a client's mistake or an outage with a 500 (`install_route_fixes`):

- `POST /project/file`: a zero-byte file made `persist_file` raise (500), and the size limit was
  the config file's 50 MB whatever `MAX_UPLOAD_MB` said. Here an empty or too large file gets a
  400 with the same sentence the knowledge base would give, and Chainlit's own limit (which the
  browser checks before uploading) is set from the setting.
- `PUT` and `DELETE /project/element`: an element without its `type` (or a custom one without
  `id`, `name` or `display`) raised KeyError (500), an unknown session ValueError (500): here
  400 and 404.
- Any route whose data-layer call fails because the database is down (the thread list, a
  thread...): 503 and "try again later", not 500.
Each guard runs in front of Chainlit's route and hands the request over to it.
4. Each socket connect that names a chat profile (the browser always does) built its session's
   configuration by running the event loop re-entrantly (`run_until_complete` of the profiles
   callback, allowed by the `nest_asyncio` Chainlit's CLI applies): other connects ran inside that
   run and nested their own, so 60 sessions connecting at once piled up stacks until RecursionError
   (logged from `get_user` of the sign-in check) and about a quarter of them were refused.
   `configure_sessions_without_nesting` gives every session the app's configuration directly; the
   nested run only looked for a profile's `config_overrides`, which this app's profiles never set.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import chainlit as cl

from chainlit.auth import get_current_user
from chainlit.types import ElementRequest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse

from knowledge import PdfRejected, check_size
from persistence import PersistenceError

_CUSTOM_ELEMENT_FIELDS = ("id", "name", "display")


def _check_element_request(request: ElementRequest) -> None:
    from chainlit.session import WebsocketSession

    element = request.element
    if not isinstance(element.get("type"), str):
        raise HTTPException(status_code=400, detail="The element has no type.")
    if element["type"] == "custom":
        for field in _CUSTOM_ELEMENT_FIELDS:
            if not isinstance(element.get(field), str):
                raise HTTPException(status_code=400, detail=f"The custom element has no {field}.")
    if WebsocketSession.get_by_id(request.sessionId) is None:
        raise HTTPException(status_code=404, detail="Session not found")


def make_route_fixes(max_upload_mb: float) -> APIRouter:
    from chainlit import server  # the app itself: imported when the routes are built, not before

    router = APIRouter()

    @router.post("/project/file")
    async def upload_file(session_id: str, file: UploadFile, ask_parent_id: str | None = None,
                          user: Any = Depends(get_current_user)):
        try:
            check_size(file.size or 0, max_upload_mb)
        except PdfRejected as exc:
            raise HTTPException(status_code=400, detail=f"{file.filename}: {exc}") from None
        return await server.upload_file(user, session_id, file, ask_parent_id)

    @router.put("/project/element")
    async def update_element(request: ElementRequest, user: Any = Depends(get_current_user)):
        _check_element_request(request)
        return await server.update_thread_element(request, user)

    @router.delete("/project/element")
    async def delete_element(request: ElementRequest, user: Any = Depends(get_current_user)):
        _check_element_request(request)
        return await server.delete_thread_element(request, user)

    return router


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "The database is unavailable; try again later."}, status_code=503)


def install_route_fixes(app: FastAPI, *, max_upload_mb: float) -> APIRouter:
    """Put the corrected routes in front of Chainlit's, set its upload limit, and answer database
    outages with 503. Returns the router."""
    from chainlit.config import config

    config.features.spontaneous_file_upload.max_size_mb = max_upload_mb
    app.add_exception_handler(PersistenceError, _database_unavailable)
    router = make_route_fixes(max_upload_mb)
    app.router.routes[0:0] = router.routes
    return router


def use_private_upload_folder(data_dir: Path) -> Path:
    """Give this process its own folder for uploads in progress (workaround 1)."""
    import chainlit.config
    import chainlit.server

    data_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="uploads-", dir=data_dir))
    chainlit.config.FILES_DIRECTORY = chainlit.server.FILES_DIRECTORY = folder
    return folder


def configure_sessions_without_nesting() -> None:
    """Workaround 4: a session's configuration without re-entering the event loop."""
    from chainlit.config import config
    from chainlit.session import WebsocketSession

    def get_config(session: WebsocketSession):
        return config

    WebsocketSession.get_config = get_config


def action_callback(name: str):
    """`cl.action_callback` that leaves the UI idle when it returns (workaround 2)."""

    def register(func):
        @functools.wraps(func)
        async def run(action: cl.Action):
            try:
                return await func(action)
            finally:
                await cl.context.emitter.task_end()

        return cl.action_callback(name)(run)

    return register
