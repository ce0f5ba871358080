"""A chat session without a browser: sign in over HTTP, talk to the app over chainlit's socket.io.

Follows what the chainlit 2.12 frontend sends (see FACTS.md): `POST /login` sets the
`access_token` cookie; the socket connects to `/ws/socket.io` (websocket transport) with that
cookie and the `auth` fields below; `connection_successful` starts (or resumes) the chat;
`client_message` sends a user message; the server answers with `new_message`/`stream_*`
events and ends each turn with `task_end`. Files go first to `POST /project/file`, then by
reference in `client_message`; actions to `POST /project/action`; an `ask` (AskUserMessage,
AskElementMessage...) is answered by `answer_ask`. Used by load, isolation and chat tests.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import httpx
import socketio


class ConnectionRefused(Exception):
    """The server refused the socket (not signed in, or the thread belongs to someone else)."""


async def sign_in(base_url: str, username: str, password: str) -> dict[str, str]:
    """The session cookies of a password sign-in; raises on wrong credentials."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post("/login", data={"username": username, "password": password})
        response.raise_for_status()
        return dict(response.cookies)


class ChatSession:
    """One browser-like chat session. `async with ChatSession(...) as chat: await chat.send("hi")`."""

    def __init__(self, base_url: str, cookies: dict[str, str], thread_id: str = "", chat_profile: str = "",
                 language: str = ""):
        self.base_url = base_url
        self.language = language  # the browser's language (Accept-Language); empty: Chainlit's default, en-US
        self.cookies = cookies
        self.thread_id = thread_id
        self.chat_profile = chat_profile
        self.session_id = str(uuid.uuid4())
        self.messages: list[dict[str, Any]] = []  # every new_message/update_message the server sent
        self.toasts: list[dict[str, Any]] = []  # {"message", "type"}
        self.actions: list[dict[str, Any]] = []  # the buttons sent with messages
        self.streamed: list[str] = []  # what streaming messages showed: each start's text, then each token
        self.asks: list[dict[str, Any]] = []  # {"msg", "spec"} of every question the server asked
        self.commands: list[list[dict[str, Any]]] = []  # every set of composer commands the server sent
        self.answer_ask: Callable[[dict[str, Any]], Any] | None = None  # its return value is the reply
        self.resumed_thread: dict[str, Any] | None = None
        self.resume_error: str | None = None
        self._task_events: list[str] = []  # "start" and "end", in order: a turn with asks starts and ends again per ask
        self._resumed = asyncio.Event()
        self._sio = socketio.AsyncClient(reconnection=False)
        self._register_handlers()

    def _register_handlers(self) -> None:
        sio = self._sio

        def keep(into: list[dict[str, Any]]):
            async def handler(payload: dict) -> None:
                into.append(payload)
            return handler

        for event, into in (("new_message", self.messages), ("update_message", self.messages),
                            ("toast", self.toasts), ("action", self.actions), ("set_commands", self.commands)):
            sio.on(event, keep(into))

        @sio.on("stream_start")
        async def _stream_start(step: dict) -> None:
            self.streamed.append(step.get("output") or "")

        @sio.on("stream_token")
        async def _stream_token(token: dict) -> None:
            self.streamed.append(token.get("token") or "")

        @sio.on("ask")
        async def _ask(ask: dict) -> Any:
            self.asks.append(ask)
            return self.answer_ask(ask) if self.answer_ask else None

        @sio.on("first_interaction")
        async def _first(event: dict) -> None:
            self.thread_id = event.get("thread_id") or self.thread_id

        @sio.on("resume_thread")
        async def _resume(thread: dict) -> None:
            self.resumed_thread = thread
            self._resumed.set()

        @sio.on("resume_thread_error")
        async def _resume_error(error: str) -> None:
            self.resume_error = error
            self._resumed.set()

        @sio.on("task_start")
        async def _start(*_: Any) -> None:
            self._task_events.append("start")

        @sio.on("task_end")
        async def _end(*_: Any) -> None:
            self._task_events.append("end")

    async def change_settings(self, values: dict[str, Any], timeout: float = 60) -> None:
        """Submit the chat settings form (the gear in the composer); wait for the app to handle it."""
        since = len(self._task_events)
        await self._sio.emit("chat_settings_change", values)
        await self._until(lambda: self._task_ended(since), timeout)  # chainlit runs the settings handler as a task

    async def connect(self) -> None:
        auth = {
            "sessionId": self.session_id,
            "clientType": "webapp",
            "threadId": self.thread_id,
            "userEnv": "{}",
            "chatProfile": quote(self.chat_profile) if self.chat_profile else "",
        }
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        headers = {"Cookie": cookie} | ({"Accept-Language": self.language} if self.language else {})
        try:
            await self._sio.connect(
                self.base_url, socketio_path="/ws/socket.io", transports=["websocket"],
                headers=headers, auth=auth, wait_timeout=30,
            )
        except socketio.exceptions.ConnectionError as error:
            raise ConnectionRefused(str(error)) from error
        since = len(self._task_events)
        await self._sio.emit("connection_successful")
        await self._until(lambda: "end" in self._task_events[since:], 30)  # the server acknowledges with a task_end
        await self._settle()

    async def _settle(self, quiet: float = 1.0, timeout: float = 120) -> None:
        """Wait until the chat start (or resume) has finished: no task runs for `quiet` seconds.

        Otherwise the task events of `on_chat_start` would be taken for the first message's turn.
        """
        async def settle() -> None:
            while True:
                count = len(self._task_events)
                await asyncio.sleep(quiet)
                if len(self._task_events) == count and self._task_events[-1:] != ["start"]:
                    return

        await asyncio.wait_for(settle(), timeout)

    async def wait_resumed(self, timeout: float = 30) -> dict[str, Any]:
        """The thread the server restored (after connecting with `thread_id`)."""
        await asyncio.wait_for(self._resumed.wait(), timeout)
        if self.resumed_thread is None:
            raise LookupError(self.resume_error or "resume failed")
        return self.resumed_thread

    def route_output(self) -> str:
        """The newest route step's facts, one a line (the step shows them as a Markdown list)."""
        routes = [m for m in self.messages if m.get("name") == "Route" and m.get("output")]
        return "\n".join(line.removeprefix("- ") for line in routes[-1]["output"].splitlines())

    def user_message(self, text: str, command: str | None = None) -> dict[str, Any]:
        """A user message as the browser sends it (also the reply to an AskUserMessage)."""
        return {
            "id": str(uuid.uuid4()), "threadId": self.thread_id, "type": "user_message", "name": "User",
            "output": text, "createdAt": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            "command": command,
        }

    async def upload(self, name: str, data: bytes, mime: str = "application/pdf") -> httpx.Response:
        """Upload a file into this session, as the composer does; `.json()` is the file reference."""
        async with httpx.AsyncClient(base_url=self.base_url, cookies=self.cookies, timeout=60) as http:
            return await http.post("/project/file", params={"session_id": self.session_id},
                                   files={"file": (name, data, mime)})

    async def call_action(self, action: dict[str, Any]) -> httpx.Response:
        """Press an action button the server sent (one of `self.actions`)."""
        async with httpx.AsyncClient(base_url=self.base_url, cookies=self.cookies, timeout=300) as http:
            return await http.post("/project/action", json={"sessionId": self.session_id, "action": action})

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 120) -> dict[str, Any]:
        """The first message (new or updated) the server sent that satisfies `predicate`, waiting for it."""
        async def first() -> dict[str, Any]:
            while True:
                for message in self.messages:
                    if predicate(message):
                        return message
                await asyncio.sleep(0.1)

        return await asyncio.wait_for(first(), timeout)

    async def send(self, text: str, timeout: float = 120, files: list[dict[str, Any]] | None = None,
                   command: str | None = None) -> dict[str, Any] | None:
        """Send a user message (with uploaded `files`, or as a `command`); wait for its task to end;
        return the last assistant message. Chainlit ends the task while it waits for an answer to an
        `ask`: with `answer_ask` set, the turn goes on after the answer and ends once per ask more;
        without it, `send` returns at the ask (then use `wait_for`)."""
        seen, asks, since = len(self.messages), len(self.asks), len(self._task_events)
        await self._sio.emit("client_message", {"message": self.user_message(text, command),
                                                "fileReferences": files or []})
        await self._until(lambda: self._task_ended(since, len(self.asks) - asks if self.answer_ask else 0), timeout)
        answers = [m for m in self.messages[seen:] if m.get("type") == "assistant_message"]
        return answers[-1] if answers else None

    def _task_ended(self, since: int, asks_answered: int = 0) -> bool:
        """Has a task started after event `since` and ended, once more than the asks answered in it?

        An end before the first start is a late one of an earlier task, and does not count.
        """
        mine = list(itertools.dropwhile(lambda event: event == "end", self._task_events[since:]))
        return mine.count("end") > asks_answered and mine[-1] == "end"

    @staticmethod
    async def _until(condition: Callable[[], bool], timeout: float) -> None:
        async def wait() -> None:
            while not condition():
                await asyncio.sleep(0.05)

        await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        if self._sio.connected:
            await self._sio.disconnect()

    async def __aenter__(self) -> ChatSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
