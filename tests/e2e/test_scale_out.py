"""Two app instances behind HAProxy, as an operator runs them: one PostgreSQL, one Chroma server, one
auth secret, the repository's `deploy/haproxy.cfg`, everything on 127.0.0.1.

The cloud model is GPT through the real `openai` client, served by the scripted fake of OpenAI's
wire protocol (on its own event loop, so an answer can be held mid-stream); the embedded model is
off, so the two instances do not load it on a busy machine. A client chooses its instance the way a
browser does, by the balancer's sticky cookie. The instances are started once for the module; the
test that kills one runs last.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import httpx
import pytest

from tests.support.app_server import AppServer, chat_users
from tests.support.chroma import running_chroma
from tests.support.cloud_app import cloud_env, fake_openai_in_a_thread
from tests.support.fake_servers import FakeServer, Reply
from tests.support.load_balancer import SERVED_BY, STICKY_COOKIE, LoadBalancer, haproxy_binary, running_load_balancer
from tests.support.postgres import find_postgres_bin, running_postgres
from tests.support.socketio_client import ChatSession, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

# "root", the first user, is the admin and exempt from limits; each test has a user of its own.
USERS = {"root": "root-pw-0", "alice": "alice-pw-1", "bob": "bob-pw-2", "carol": "carol-pw-3",
         "dave": "dave-pw-4", "erin": "erin-pw-5", "frank": "frank-pw-6", "gina": "gina-pw-7"}
API_KEY = "scale-out-key-0123456789abcdef"
RATE_LIMIT = 5
MAX_FAILED_LOGINS = 3
CLOUD_PROFILE = "GPT-4.1 mini"
ANSWER = "Hello, world!"  # the fake cloud's answer
NOTE_PDF = b"%PDF-1.7\n%%EOF\n"  # the upload route keeps the bytes for the session; it does not read them


@dataclass
class Cluster:
    balancer: LoadBalancer
    apps: dict[str, AppServer]  # the balancer's server name -> the instance
    cloud: FakeServer

    def other(self, name: str) -> str:
        return next(server for server in self.apps if server != name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    if find_postgres_bin() is None or haproxy_binary() is None:
        pytest.skip("PostgreSQL or HAProxy is not installed (make system-deps)")
    root = tmp_path_factory.mktemp("scale-out")
    secret = secrets.token_urlsafe(48)
    with ExitStack() as stack:
        postgres = stack.enter_context(running_postgres())
        chroma_port = stack.enter_context(running_chroma(root / "chroma"))
        cloud = stack.enter_context(fake_openai_in_a_thread())
        env = cloud_env(cloud) | {
            "DATABASE_URL": postgres.create_database(), "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(chroma_port),
            "FOUNDRY_ENABLED": "false", "CHAT_USERS": chat_users(USERS), "GATEWAY_API_KEYS": f"{API_KEY}:carol",
            "RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT), "MAX_FAILED_LOGINS": str(MAX_FAILED_LOGINS), "MAX_RETRIES": "0",
        }
        apps = [stack.enter_context(AppServer(root / f"app{i}", env=env, auth_secret=secret)) for i in (1, 2)]
        balancer = stack.enter_context(running_load_balancer([app.url for app in apps], root / "haproxy"))
        yield Cluster(balancer, dict(zip(balancer.servers, apps)), cloud)


@pytest.fixture(autouse=True)
def fresh_script(cluster):
    cluster.cloud.script.clear()


def pinned(cookies: dict[str, str], server: str) -> dict[str, str]:
    """The cookies of a browser the balancer pins to `server`."""
    return cookies | {STICKY_COOKIE: server}


def served_by(response: httpx.Response) -> str:
    return response.headers[SERVED_BY]


async def list_threads(cluster: Cluster, cookies: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=cluster.balancer.url, cookies=cookies, timeout=60) as http:
        return await http.post("/project/threads", json={"pagination": {"first": 20}, "filter": {}})


def step_outputs(thread: dict) -> list[str]:
    return [step.get("output") for step in thread["steps"] if step.get("type") in ("user_message", "assistant_message")]


async def until(condition) -> None:
    """Return once `condition()` holds (the caller bounds the wait)."""
    while not condition():
        await asyncio.sleep(0.05)


async def test_a_chat_started_through_one_instance_is_listed_and_resumed_through_the_other(cluster):
    cookies = await sign_in(cluster.balancer.url, "alice", USERS["alice"])
    first = cookies[STICKY_COOKIE]  # the balancer pinned this browser to an instance at sign-in
    async with ChatSession(cluster.balancer.url, cookies, chat_profile=CLOUD_PROFILE) as chat:
        assert (await chat.send("Name a colour."))["output"] == ANSWER
        thread_id = chat.thread_id

    elsewhere = pinned(cookies, cluster.other(first))
    listed = await list_threads(cluster, elsewhere)
    assert listed.status_code == 200 and served_by(listed) == cluster.other(first), listed.text
    assert thread_id in listed.text

    async with ChatSession(cluster.balancer.url, elsewhere, thread_id=thread_id, chat_profile=CLOUD_PROFILE) as chat:
        assert step_outputs(await chat.wait_resumed()) == ["Name a colour.", ANSWER]
        assert (await chat.send("Name a fruit."))["output"] == ANSWER
    sent = cluster.cloud.generation_requests()[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "Name a colour."), ("assistant", ANSWER), ("user", "Name a fruit.")], "the model saw the chat so far"


async def test_the_sticky_cookie_takes_a_browsers_socket_and_its_http_calls_to_the_same_instance(cluster):
    cookies = await sign_in(cluster.balancer.url, "gina", USERS["gina"])
    here = cookies[STICKY_COOKIE]
    async with ChatSession(cluster.balancer.url, cookies) as chat:
        # An upload names the chat's session, which only the instance holding its socket knows.
        uploaded = await chat.upload("note.pdf", NOTE_PDF)
        assert uploaded.status_code == 200 and served_by(uploaded) == here, uploaded.text
        chat.cookies = pinned(cookies, cluster.other(here))
        elsewhere = await chat.upload("note.pdf", NOTE_PDF)
        assert elsewhere.status_code == 404 and served_by(elsewhere) == cluster.other(here), elsewhere.text


async def test_a_users_rate_limit_holds_across_instances(cluster):
    request = {"model": "auto", "messages": [{"role": "user", "content": "Name a colour."}]}
    async with httpx.AsyncClient(base_url=cluster.balancer.url, timeout=120,
                                 headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        responses = []
        for _ in range(RATE_LIMIT + 1):
            http.cookies.clear()  # no sticky cookie: the balancer sends each request to the next instance in turn
            responses.append(await http.post("/v1/chat/completions", json=request))
    assert [r.status_code for r in responses] == [200] * RATE_LIMIT + [429], [r.text for r in responses]
    assert {served_by(r) for r in responses} == set(cluster.apps), "the requests were spread over both instances"
    assert responses[-1].headers["retry-after"]


async def test_a_sign_out_on_one_instance_refuses_the_token_on_the_other(cluster):
    cookies = await sign_in(cluster.balancer.url, "dave", USERS["dave"])
    here = cookies[STICKY_COOKIE]
    there = pinned(cookies, cluster.other(here))
    async with httpx.AsyncClient(base_url=cluster.balancer.url, timeout=60) as http:
        before = await http.get("/user", cookies=there)
        assert before.status_code == 200 and served_by(before) == cluster.other(here)  # one secret: both accept it
        signed_out = await http.post("/logout", cookies=cookies)
        assert signed_out.status_code == 200 and served_by(signed_out) == here
        after = await http.get("/user", cookies=there)
    assert after.status_code == 401 and served_by(after) == cluster.other(here), after.text


async def test_a_lockout_on_one_instance_applies_on_the_other(cluster):
    async with httpx.AsyncClient(base_url=cluster.balancer.url, timeout=60) as http:
        for _ in range(MAX_FAILED_LOGINS):
            wrong = await http.post("/login", data={"username": "erin", "password": "guess"},
                                    cookies={STICKY_COOKIE: "app1"})
            assert wrong.status_code == 401 and served_by(wrong) == "app1", wrong.text
        locked = await http.post("/login", data={"username": "erin", "password": USERS["erin"]},
                                 cookies={STICKY_COOKIE: "app2"})
        assert locked.status_code == 429 and served_by(locked) == "app2", locked.text
        assert locked.json()["detail"] == "tooManyAttempts"
        other_user = await http.post("/login", data={"username": "alice", "password": USERS["alice"]},
                                     cookies={STICKY_COOKIE: "app2"})
        assert other_user.status_code == 200


# Last in the module: it leaves one instance running.
async def test_when_an_instance_dies_mid_answer_the_chat_resumes_through_the_other_with_what_was_answered(cluster):
    cookies = await sign_in(cluster.balancer.url, "bob", USERS["bob"])
    doomed = cookies[STICKY_COOKIE]
    survivor = cluster.other(doomed)
    bystander_cookies = pinned(await sign_in(cluster.balancer.url, "frank", USERS["frank"]), survivor)
    async with (ChatSession(cluster.balancer.url, cookies, chat_profile=CLOUD_PROFILE) as chat,
                ChatSession(cluster.balancer.url, bystander_cookies, chat_profile=CLOUD_PROFILE) as bystander):
        assert (await chat.send("Name a colour."))["output"] == ANSWER
        thread_id = chat.thread_id
        # The next answer streams its first words, then holds: the instance dies while it writes.
        cluster.cloud.script.append(Reply(chunks=("Half an", " answer", " never finished"), hold_after=2))
        in_flight = asyncio.create_task(chat.send("Name a fruit."))
        await asyncio.wait_for(until(lambda: "Half an answer" in "".join(chat.streamed)), 120)
        cluster.apps[doomed].kill()
        in_flight.cancel()
        await asyncio.gather(in_flight, return_exceptions=True)
        assert (await bystander.send("Name a colour."))["output"] == ANSWER, "a chat on the other instance goes on"

    # The browser reconnects through the balancer with its cookies as they were (still naming the dead one).
    listed = await list_threads(cluster, cookies)
    assert listed.status_code == 200 and served_by(listed) == survivor, listed.text
    assert listed.cookies[STICKY_COOKIE] == survivor, "the balancer moves the browser's cookie to the survivor"
    assert thread_id in listed.text
    async with ChatSession(cluster.balancer.url, cookies, thread_id=thread_id, chat_profile=CLOUD_PROFILE) as chat:
        # What was answered is all there; the question in flight is kept, its half-streamed answer is not
        # (a message is saved when it is complete), so the user asks again.
        assert step_outputs(await chat.wait_resumed()) == ["Name a colour.", ANSWER, "Name a fruit."]
        assert (await chat.send("Name a fruit, please."))["output"] == ANSWER
    sent = cluster.cloud.generation_requests()[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "Name a colour."), ("assistant", ANSWER), ("user", "Name a fruit."), ("user", "Name a fruit, please.")]
