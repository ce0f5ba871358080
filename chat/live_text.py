"""An answer's text sent to the browser in small batches: one socket message per few tokens, not per token.

Every socket message costs the event loop a JSON encoding, a socket.io packet and a websocket
write; with many answers streaming at once that per-token work delays everyone's first token.
The first text goes out at once; later text waits at most `interval_s` for more to join it
(a timer sends it even when no more comes), so the answer still reads as live.

    live = LiveText(reply.stream_token)
    await live.write("Hel"); await live.write("lo")   # "Hel" now, "lo" within interval_s
    await live.flush()                                 # before anything else is shown or saved
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

#: 40 ms: 25 updates a second still read as a live stream; about two tokens of a fast model per update.
FLUSH_INTERVAL_S = 0.04


class LiveText:
    """Batches text for `send(text, is_sequence)` (Chainlit's `Message.stream_token`), in order."""

    def __init__(self, send: Callable[..., Awaitable[None]], *, interval_s: float = FLUSH_INTERVAL_S) -> None:
        self._send = send
        self._interval_s = interval_s
        self._pending = ""
        self._next_send = 0.0  # monotonic time before which new text waits (0: send at once)
        self._timer: asyncio.TimerHandle | None = None
        self._timed: set[asyncio.Task] = set()  # timer flushes running (the event loop holds tasks weakly)
        self._lock = asyncio.Lock()  # one send at a time, so the browser gets the text in order

    async def write(self, text: str) -> None:
        """Add `text`: sent now when the last send is `interval_s` old, else by the timer or the next write."""
        self._pending += text
        delay = self._next_send - time.monotonic()
        if delay <= 0:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(delay, self._flush_later)

    async def replace(self, text: str) -> None:
        """Show `text` instead of everything shown so far (a waiting message's place in line), at once."""
        await self.flush()
        async with self._lock:
            await self._send(text, is_sequence=True)

    async def flush(self) -> None:
        """Send whatever waits, now (before the reply is finished, saved or followed by a note)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        async with self._lock:
            text, self._pending = self._pending, ""
            if text:
                self._next_send = time.monotonic() + self._interval_s
                await self._send(text)

    def _flush_later(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self.flush())
        self._timed.add(task)
        task.add_done_callback(self._timed.discard)
