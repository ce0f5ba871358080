"""`LiveText`: an answer's text reaches the browser in order, in fewer socket messages, and none is held back."""

from __future__ import annotations

import asyncio

from chat.live_text import LiveText


class Reply:
    """What Chainlit's `Message.stream_token` would have sent, one entry per socket message."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bool]] = []

    async def stream_token(self, text: str, is_sequence: bool = False) -> None:
        await asyncio.sleep(0)  # a real send yields to the event loop
        self.sent.append((text, is_sequence))


async def test_the_first_text_goes_out_at_once_and_what_follows_it_closely_is_sent_together():
    reply = Reply()
    live = LiveText(reply.stream_token, interval_s=3600)
    await live.write("Hel")
    assert reply.sent == [("Hel", False)]
    for token in ("lo", ", ", "world"):
        await live.write(token)
    assert reply.sent == [("Hel", False)]
    await live.flush()
    assert reply.sent == [("Hel", False), ("lo, world", False)]


async def test_held_text_is_sent_by_the_timer_when_no_more_text_comes():
    reply = Reply()
    live = LiveText(reply.stream_token, interval_s=0.05)
    await live.write("one")
    await live.write(" two")
    for _ in range(400):  # up to 20 s on a saturated machine; nothing else is written or flushed
        if len(reply.sent) == 2:
            break
        await asyncio.sleep(0.05)
    assert reply.sent == [("one", False), (" two", False)]


async def test_a_replacement_comes_after_the_held_text_and_replaces_everything_shown():
    reply = Reply()
    live = LiveText(reply.stream_token, interval_s=3600)
    await live.write("partial")
    await live.write(" answer")
    await live.replace("⏳ 2nd in line")
    assert reply.sent == [("partial", False), (" answer", False), ("⏳ 2nd in line", True)]


async def test_a_flush_with_nothing_held_sends_nothing():
    reply = Reply()
    live = LiveText(reply.stream_token, interval_s=3600)
    await live.flush()
    await live.write("x")
    await live.flush()
    assert reply.sent == [("x", False)]
