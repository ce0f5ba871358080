"""Errors in the OpenAI error format, so every OpenAI client shows them as it shows OpenAI's own.

`{"error": {"message", "type", "param", "code"}}` with the matching HTTP status; the
`openai` SDK turns 401 into AuthenticationError, 404 NotFoundError, 429 RateLimitError
and reads `message` from the body.
"""

from __future__ import annotations

from starlette.responses import JSONResponse


class GatewayError(Exception):
    def __init__(
        self, status: int, message: str, *, type: str = "invalid_request_error", code: str | None = None,
        param: str | None = None, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers={**self.headers, **(headers or {})})


def invalid_key() -> GatewayError:
    return GatewayError(
        401, "Incorrect or revoked API key. Create a key in Hybrid Chat (or ask the operator) and send it "
        "as 'Authorization: Bearer <key>'.", code="invalid_api_key",
    )
