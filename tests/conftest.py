"""Fixtures shared by every test package: the running app, a headless Chromium, a Chroma server, a PostgreSQL,
two instances' shared state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from persistence import SharedState, create_engine, upgrade_database
from tests.support.app_server import TEST_USERS, AppServer, chat_users
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.chroma import running_chroma
from tests.support.postgres import find_postgres_bin, running_postgres


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """The app with two password users (alice is the admin), shared by the session's tests."""
    with AppServer(tmp_path_factory.mktemp("app"), env={"CHAT_USERS": chat_users(TEST_USERS)}) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    # Per module: Playwright's sync API runs an event loop in this thread while it is open,
    # and pytest-asyncio cannot run any async test in a later module meanwhile.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server for the session: its host and port."""
    with running_chroma(tmp_path_factory.mktemp("chroma-server")) as port:
        yield "127.0.0.1", port


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL for the session (each test creates its own database in it)."""
    if find_postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (make system-deps)")
    with running_postgres() as server:
        yield server


@pytest.fixture
async def engine(tmp_path):
    """A fresh SQLite database with the app's schema (usage, keys, projects...)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    await upgrade_database(url)
    engine = create_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def two_instances(request, tmp_path):
    """The shared state of two app instances: each its own engine, both on one migrated database (each engine)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database()
    await upgrade_database(url)
    engines = [create_engine(url), create_engine(url)]
    yield tuple(SharedState(engine) for engine in engines)
    for engine in engines:
        await engine.dispose()
