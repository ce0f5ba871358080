"""`/healthz` (the process answers), `/readyz` (it can serve a message) and `/metrics` (Prometheus).

Readiness needs the database, the vector store and at least one usable backend; the
answer lists each check and every backend's state, so an operator sees why at once.
The vector store is checked without opening it (the embedded store allows one writer
process): a Chroma server by its heartbeat, the embedded store by its folder.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import httpx
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.service import ROUTE_NAME, Gateway
from operations import exposition, observe_health
from settings import Settings

CHECK_TIMEOUT_S = 3.0
Check = Callable[[], Awaitable[None]]


def vector_store_check(settings: Settings) -> Check:
    """A check that raises (with a readable message) when the configured Chroma store is unusable."""
    if settings.chroma_host:
        url = f"http://{settings.chroma_host}:{settings.chroma_port}/api/v2/heartbeat"

        async def heartbeat() -> None:
            async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S) as client:
                (await client.get(url)).raise_for_status()

        return heartbeat

    async def folder() -> None:
        path = settings.chroma_dir
        existing = path if path.exists() else next(p for p in path.parents if p.exists())
        if not existing.is_dir() or not os.access(existing, os.W_OK):
            raise OSError(f"{existing} is not a writable folder")

    return folder


async def _run(check: Check) -> dict:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except Exception as exc:  # any failure means "not ready"; the reason is for the operator
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True}


def ops_routes(gateway: Gateway, vector_store: Check | None = None) -> APIRouter:
    api = APIRouter()
    vector_store = vector_store or vector_store_check(gateway.settings)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        database, store, health = await asyncio.gather(
            _run(gateway.ping_database), _run(vector_store), gateway.router.health()
        )
        observe_health(health)
        backends = {name: {"available": state.available, "reason": state.reason} for name, state in health.items()}
        any_backend = any(state.available for state in health.values())
        ready = database["ok"] and store["ok"] and any_backend
        body = {
            "status": "ready" if ready else "not ready",
            "checks": {"database": database, "vector_store": store,
                       "backend": {"ok": any_backend} | ({} if any_backend else {"error": "no backend is available"})},
            "backends": backends,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics(request: Request) -> Response:
        observe_health(await gateway.router.health())
        payload, content_type = exposition()
        return Response(payload, media_type=content_type)

    for path, endpoint in (("/healthz", healthz), ("/readyz", readyz), ("/metrics", metrics)):
        api.add_api_route(path, endpoint, methods=["GET"], name=ROUTE_NAME, include_in_schema=False)
    return api
