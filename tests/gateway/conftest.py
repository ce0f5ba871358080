"""Fixtures of the gateway tests (the servers themselves are in _gateway_server.py)."""

from __future__ import annotations

import pytest

from _gateway_server import start_gateway
from _fake_servers import Reply  # importable once _gateway_server put it on the path


@pytest.fixture(scope="module")
async def running(tmp_path_factory):
    async for running in start_gateway(tmp_path_factory.mktemp("gateway")):
        yield running


@pytest.fixture(autouse=True)
def fresh_scripts(request):
    """Each test scripts the providers from scratch."""
    if "running" in request.fixturenames:
        running = request.getfixturevalue("running")
        for server in (running.local, running.cloud):
            server.script.clear()
            server.requests.clear()
            server.default = Reply()
    yield

