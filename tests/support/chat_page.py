"""Driving the chat in a browser page: sign in, pick a profile, send, upload, and watch the socket.

For the end-to-end tests in headless Chromium (Playwright's sync API); the page is the
`page` fixture of tests/conftest.py or a page of a context a test opens itself.
"""

from __future__ import annotations

import time

from tests.support.app_server import TEST_USERS

LOCAL_PROFILE = "SmolLM2 135M (Foundry Local)"


class SocketLog:
    """Every socket.io frame the page receives, to see streaming and the end of each task.

    Create it before the page loads the app: it makes the socket.io client use the websocket
    from the start. Otherwise the client begins on HTTP long-polling, this log misses every
    packet sent before the upgrade, and a busy machine can delay that upgrade by seconds.
    """

    def __init__(self, page) -> None:
        self.frames: list[str] = []
        page.add_init_script("window.transports = ['websocket'];")  # Chainlit's client reads this option
        page.on("websocket", lambda ws: ws.on("framereceived", self._record))

    def _record(self, frame) -> None:
        self.frames.append(frame if isinstance(frame, str) else "")

    def count(self, event: str) -> int:
        return sum(f'"{event}"' in frame for frame in self.frames)

    def answered(self) -> int:
        """How many `on_message` runs have finished (each ends with an update of its run step)."""
        return sum('["update_message",{"name":"on_message"' in frame for frame in self.frames)

    def chat_starts(self) -> int:
        """How many chat sessions the app has set up (each start sends the composer's commands)."""
        return self.count("set_commands")

    def wait_for_chat_start(self, page, count: int = 1, timeout: float = 60) -> None:
        """Until the app has set up `count` chat sessions in this page."""
        self.wait_for_event("set_commands", page, count=count, timeout=timeout)

    def wait_for_event(self, event: str, page, count: int = 1, timeout: float = 60) -> None:
        """Until the page has received `event` `count` times (e.g. "ask": the app waits for an answer)."""
        deadline = time.monotonic() + timeout
        while self.count(event) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{event!r} received {self.count(event)} of {count} times within {timeout} s")
            page.wait_for_timeout(200)

    def wait_for_answers(self, count: int, page, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.answered() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.answered()} answers after {timeout} s")
            page.wait_for_timeout(200)


def sign_in(page, url: str, user: str = "alice") -> None:
    page.goto(url)
    page.fill("#email", user)
    page.fill("#password", TEST_USERS[user])
    page.click("button[type=submit]")
    page.wait_for_selector("#chat-input")


def pick_profile(page, sockets: SocketLog, name: str) -> None:
    """Switch profile and wait for the new chat it starts: an upload sent meanwhile is aborted."""
    sockets.wait_for_chat_start(page)
    started = sockets.chat_starts()
    page.click("#chat-profiles")
    page.get_by_role("option", name=name).first.click()
    sockets.wait_for_chat_start(page, count=started + 1)


def send(page, text: str) -> None:
    page.fill("#chat-input", text)
    page.click("#chat-submit")


def upload_and_send(page, path, text: str) -> None:
    with page.expect_response(lambda r: "/project/file" in r.url and r.request.method == "POST") as upload:
        page.set_input_files("input[type=file]", str(path))
    assert upload.value.ok, upload.value.text()
    send(page, text)
