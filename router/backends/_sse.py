"""The `data` of each server-sent event in a stream of lines (the HTML living standard's event stream format).

The providers' streams are parsed here rather than by their SDKs' typed models, which cost more
CPU per token than everything else the gateway does with it (see bench/bench_gateway.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator


async def event_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """Each event's data lines joined by newlines; comments, other fields and data-less events are skipped."""
    data: list[str] = []
    async for line in lines:
        if not line:  # a blank line dispatches the event
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
    if data:  # a stream cut off before its last blank line still delivers what it said
        yield "\n".join(data)
