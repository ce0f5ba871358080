"""Errors a backend raises, classified so the caller knows whether to retry or fall back.

Every message here is written for the person chatting: short, no secrets, no
traceback, and when possible what to do next.
"""

from __future__ import annotations


class BackendError(Exception):
    """A backend could not produce (the rest of) an answer.

    `transient` errors (rate limits, 5xx, dropped connections, timeouts) may succeed
    on a retry; the others (bad request, bad key) will not. `retry_after` is the
    provider's hint in seconds, when it gave one.
    """

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        backend: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
        transient: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.backend = backend
        self.status_code = status_code
        self.retry_after = retry_after
        if transient is not None:
            self.transient = transient

    def __str__(self) -> str:
        return f"{self.backend}: {self.message}" if self.backend else self.message


class BackendUnavailable(BackendError):
    """Not configured, not reachable, or not ready (no key, server down, model missing)."""

    transient = True


class BackendTimeout(BackendError):
    """No first token, or no end of answer, within the configured time."""

    transient = True


class RateLimited(BackendError):
    """HTTP 429: slow down (honour `retry_after`)."""

    transient = True


class AuthenticationFailed(BackendError):
    """HTTP 401/403: the key is wrong or lacks access. Never retried."""


class BadRequest(BackendError):
    """HTTP 400-class: the request itself is wrong (too long, bad parameters). Never retried."""


#: Why a text with a lone surrogate (from a client's broken encoding) cannot be sent to any model.
INVALID_UNICODE = "the text is not valid Unicode (it holds a lone surrogate)"


class NoBackendAvailable(BackendError):
    """No model the route allows can answer now; nothing was sent anywhere."""
