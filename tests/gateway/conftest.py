"""Fixtures of the gateway tests (the servers themselves are in tests/support/gateway_server.py)."""

from __future__ import annotations

import pytest

from tests.support.fake_servers import Reply
from tests.support.gateway_server import start_gateway


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

