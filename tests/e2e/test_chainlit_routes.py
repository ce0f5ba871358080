"""Chainlit's upload and element routes answer a client's mistake with a 400 and a clear reason, and
take their upload limit from MAX_UPLOAD_MB. Driven over HTTP and socket.io against the running app."""

from __future__ import annotations

import httpx
import pytest

from tests.support.app_server import AppServer, chat_users
from tests.support.socketio_client import ChatSession, sign_in
from tests.support.knowledge_pdfs import HARBOUR_GUIDE, make_pdf

pytestmark = pytest.mark.e2e

USERS = {"alice": "alice-pw-1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"CHAT_USERS": chat_users(USERS), "MAX_UPLOAD_MB": "1"}
    with AppServer(tmp_path_factory.mktemp("routes"), env=env) as app:
        yield app


@pytest.fixture
async def chat(server):
    async with ChatSession(server.url, await sign_in(server.url, "alice", USERS["alice"])) as session:
        yield session


async def test_an_empty_file_is_refused_with_a_clear_reason(chat):
    response = await chat.upload("empty.pdf", b"")
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == "empty.pdf: This PDF cannot be indexed: the file is empty."


async def test_uploads_are_limited_to_max_upload_mb(chat, tmp_path):
    (tmp_path / "small.pdf").write_bytes(make_pdf(HARBOUR_GUIDE))
    assert (await chat.upload("small.pdf", (tmp_path / "small.pdf").read_bytes())).status_code == 200
    response = await chat.upload("large.pdf", b"%PDF-1.7\n" + b"0" * 1_100_000)
    assert response.status_code == 400, response.text
    assert "the limit is 1 MB (MAX_UPLOAD_MB)" in response.json()["detail"]
    async with httpx.AsyncClient(base_url=chat.base_url, cookies=chat.cookies) as http:
        features = (await http.get("/project/settings")).json()["features"]
    assert features["spontaneous_file_upload"]["max_size_mb"] == 1  # the browser checks it before uploading


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_an_element_request_without_its_type_is_a_bad_request(chat, method):
    async with httpx.AsyncClient(base_url=chat.base_url, cookies=chat.cookies) as http:
        response = await http.request(method, "/project/element",
                                      json={"sessionId": chat.session_id, "element": {"id": "x"}})
    assert response.status_code == 400, response.text
    assert "type" in response.json()["detail"]
