"""Isolation over HTTP: chainlit 2.12's own thread endpoints and our `/files` route, with our layer.

Drives chainlit's real FastAPI app in-process (httpx ASGI transport) with JWTs chainlit signs
itself; the socket.io side is covered by the app-level tests.
"""

from __future__ import annotations

import uuid

import httpx


async def test_owner_reads_lists_downloads_and_deletes(signed_in, alice_thread, layer):
    thread_id, element = alice_thread
    async with signed_in("alice") as alice:
        listed = await alice.post("/project/threads", json={"pagination": {"first": 20}, "filter": {}})
        assert [t["id"] for t in listed.json()["data"]] == [thread_id]
        assert (await alice.get(f"/project/thread/{thread_id}")).json()["steps"][0]["output"] == "my salary is 10"
        got = await alice.get(f"/project/thread/{thread_id}/element/{element['id']}")
        assert got.json()["url"] == element["url"]
        download = await alice.get(element["url"])
        assert download.status_code == 200 and download.content == b"salary 10"
        assert download.headers["content-type"].startswith("text/plain")
        assert (await alice.request("DELETE", "/project/thread", json={"threadId": thread_id})).status_code == 200
        assert await layer.get_thread(thread_id) is None
        assert (await alice.get(element["url"])).status_code == 404


async def test_another_user_can_neither_list_open_download_nor_delete(signed_in, chainlit_app, alice_thread, layer):
    thread_id, element = alice_thread
    async with signed_in("bob") as bob:
        listed = await bob.post("/project/threads", json={"pagination": {"first": 20}, "filter": {}})
        assert listed.status_code == 200 and listed.json()["data"] == []
        assert (await bob.get(f"/project/thread/{thread_id}")).status_code in (401, 403, 404)
        assert (await bob.get(f"/project/thread/{thread_id}/element/{element['id']}")).status_code in (401, 403, 404)
        assert (await bob.get(element["url"])).status_code == 404
        deleted = await bob.request("DELETE", "/project/thread", json={"threadId": thread_id})
        assert deleted.status_code in (401, 403, 404)
        missing = await bob.get(f"/project/thread/{uuid.uuid4()}")
        assert missing.status_code == 404  # stock layer: 500 (ValueError)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=chainlit_app), base_url="http://testserver") as anonymous:
        assert (await anonymous.get(element["url"])).status_code == 401
    assert (await layer.get_thread(thread_id))["name"] == "Alice's secrets"


async def test_files_route_rejects_path_tricks(signed_in, alice_thread):
    thread_id, element = alice_thread
    async with signed_in("alice") as alice:
        for url in ("/files/%2e%2e/hybrid_chat.db", "/files/..%2Fhybrid_chat.db", f"/files/{thread_id}"):
            assert (await alice.get(url)).status_code == 404
        climbed = await alice.get("/files/../hybrid_chat.db")  # the client normalises it to /hybrid_chat.db
        assert not climbed.content.startswith(b"SQLite format 3")
