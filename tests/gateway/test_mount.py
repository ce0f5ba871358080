"""Mounting puts the gateway ahead of a catch-all route, and mounting again replaces it."""

from __future__ import annotations

from fastapi import FastAPI

from gateway import mount_gateway
from router import Router
from settings import Settings


async def test_mounting_twice_replaces_the_routes_and_keeps_them_first(tmp_path):
    settings = Settings(DATA_DIR=tmp_path, FOUNDRY_ENABLED=False, OLLAMA_ENABLED=False)
    router = Router.from_settings(settings)
    app = FastAPI()

    @app.get("/{full_path:path}")
    async def catch_all(full_path: str) -> str:
        return "frontend"

    first = mount_gateway(app, router, settings)
    paths = [route.path for route in app.router.routes]
    second = mount_gateway(app, router, settings)
    assert [route.path for route in app.router.routes] == paths, "a re-import must not stack a second gateway"
    assert paths[-1] == "/{full_path:path}"
    assert {"/v1/models", "/v1/chat/completions", "/gateway/keys", "/healthz", "/readyz", "/metrics"} <= set(paths)
    for gateway in (first, second):
        await gateway.aclose()
    await router.aclose()
