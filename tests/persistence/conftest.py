"""Every data-layer test runs on SQLite and on a real PostgreSQL started for the session."""

from __future__ import annotations

import uuid

import chainlit as cl
import chainlit.data
import httpx
import pytest
from chainlit.auth import create_jwt
from chainlit.context import init_http_context
from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.user import User

from persistence import (
    HybridDataLayer,
    LocalStorageClient,
    install_feedback_guard,
    install_file_route,
    upgrade_database,
)

ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def empty_database_url(request, tmp_path) -> str:
    """A fresh, empty database on each engine."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hybrid_chat.db'}"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
async def database_url(empty_database_url) -> str:
    """A fresh database migrated to the newest schema."""
    await upgrade_database(empty_database_url)
    return empty_database_url


@pytest.fixture
def storage(tmp_path) -> LocalStorageClient:
    return LocalStorageClient(tmp_path / "files")


@pytest.fixture
async def chainlit_context(monkeypatch):
    """A chainlit HTTP context (writes happen at once) with no global data layer of chainlit's own."""
    monkeypatch.setattr(chainlit.data, "_data_layer", None)
    monkeypatch.setattr(chainlit.data, "_data_layer_initialized", True)
    init_http_context()


@pytest.fixture
async def layer(database_url, storage, chainlit_context):
    data_layer = HybridDataLayer(database_url, storage_provider=storage)
    yield data_layer
    await data_layer.close()


@pytest.fixture
async def stock_layer(database_url, storage, chainlit_context):
    """Chainlit 2.12's own layer on the same database, to show each defect we fix."""
    data_layer = SQLAlchemyDataLayer(database_url, storage_provider=storage)
    yield data_layer
    await data_layer.close()


@pytest.fixture
def new_user(layer):
    async def create(name: str | None = None):
        return await layer.create_user(User(identifier=name or f"user-{uuid.uuid4().hex[:8]}"))

    return create


@pytest.fixture
async def chainlit_app(layer, monkeypatch):
    """Chainlit's real FastAPI app with our layer and routes, signing its own JWTs."""
    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", "test-secret-" + uuid.uuid4().hex)
    monkeypatch.setenv("CHAINLIT_CUSTOM_AUTH", "true")
    monkeypatch.setattr(chainlit.data, "_data_layer", layer)
    from chainlit.server import app

    routers = [install_file_route(app, layer), install_feedback_guard(app, layer)]
    yield app
    for router in routers:
        for route in router.routes:
            app.router.routes.remove(route)


@pytest.fixture
def signed_in(chainlit_app):
    """`signed_in("bob")`: an HTTP client of chainlit's app carrying bob's session cookie."""

    def client(identifier: str) -> httpx.AsyncClient:
        token = create_jwt(User(identifier=identifier))
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=chainlit_app), base_url="http://testserver",
            cookies={"access_token": token},
        )

    return client


@pytest.fixture
async def alice_thread(layer):
    """Alice's thread with a message and a stored file."""
    alice = await layer.create_user(User(identifier="alice"))
    thread_id = str(uuid.uuid4())
    await layer.update_thread(thread_id, name="Alice's secrets", user_id=alice.id)
    msg = cl.Message(content="my salary is 10", type="user_message")
    msg.thread_id = thread_id
    await layer.create_step(msg.to_dict())
    page = cl.Text(name="payslip.txt", content=b"salary 10", for_id=msg.id, mime="text/plain")
    page.thread_id = thread_id
    await layer.create_element(page)
    element = (await layer.get_thread(thread_id))["elements"][0]
    return thread_id, element
