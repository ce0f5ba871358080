"""HTTP failures of any provider, classified into router errors the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing

from router.errors import (
    INVALID_UNICODE, AuthenticationFailed, BackendError, BackendUnavailable, BadRequest, RateLimited,
)
from router.types import Chunk


async def translated(chunks: AsyncIterator[Chunk], translate: Callable[[Exception], BackendError]) -> AsyncIterator[Chunk]:
    """Pass `chunks` through; an SDK exception becomes `translate(exc)`.

    Text the SDK cannot encode (a lone surrogate) is the caller's bad request on every provider.
    The router error is raised outside the handler, so the SDK error (which may quote the
    request or the key) never rides along as its `__context__`. Closing this stream closes
    `chunks` at once, which releases the provider's connection.
    """
    failure = None
    try:
        async with aclosing(chunks) as inner:
            async for chunk in inner:
                yield chunk
    except BackendError:
        raise
    except UnicodeEncodeError:
        failure = BadRequest(INVALID_UNICODE)
    except Exception as exc:
        failure = translate(exc)
    if failure is not None:
        raise failure


def error_from_status(status: int, headers, backend: str, key_env: str) -> BackendError:
    """Classify an HTTP error status. The provider's message is left out: some echo part of the key."""
    if status in (401, 403):
        return AuthenticationFailed(
            f"the server refused the credentials (HTTP {status}); check {key_env}", backend=backend, status_code=status
        )
    if status == 429:
        return RateLimited(
            "rate limited by the provider (HTTP 429)", backend=backend, status_code=status,
            retry_after=parse_retry_after(headers),
        )
    if status == 404:
        return BackendUnavailable(
            "the model was not found on the server (HTTP 404)", backend=backend, status_code=status, transient=False
        )
    if status == 408 or status >= 500:
        return BackendError(
            f"the provider had an error (HTTP {status})", backend=backend, status_code=status, transient=True,
            retry_after=parse_retry_after(headers),
        )
    return BadRequest(f"the provider rejected the request (HTTP {status})", backend=backend, status_code=status)


def parse_retry_after(headers) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds form; the date form is rare for APIs)."""
    if headers is None:
        return None
    for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None
