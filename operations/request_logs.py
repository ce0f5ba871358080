"""Log lines that can be followed and shared: a request id on every line, personal data and secrets masked.

The request id lives in a context variable: set it once where a message enters (a gateway
request, a chat message) and every log line written while handling it, in the router and
the backends too, carries it, because asyncio copies the context into the tasks it spawns.
Redaction happens in the formatter, so no logger anywhere can bypass it: the router's
privacy scanner finds personal data, a few patterns catch secrets it does not know
(gateway keys, bearer tokens, passwords in URLs and `key=value` pairs).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone

from router import scan_text
from settings import Settings

request_id: ContextVar[str] = ContextVar("request_id", default="-")

_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_SECRETS = (
    re.compile(r"\bhc-[A-Za-z0-9_-]{16,}"),  # our own gateway keys
    re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"),  # OpenAI-style keys
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),  # user:password@ in URLs
    re.compile(r"(?i)\b(?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*[^\s,;]+"),
)
_MACHINE_ADDRESS = re.compile(r"127\.\d+\.\d+\.\d+|0\.0\.0\.0")
_TEXT_FORMAT = "%(asctime)s - %(levelname)s - %(name)s - [%(request_id)s] %(message)s"


def bind_request_id(value: str | None = None) -> str:
    """Use `value` (e.g. a client's X-Request-ID, when it looks like an id) or a new id for this context."""
    rid = value if value and _SAFE_REQUEST_ID.fullmatch(value) else uuid.uuid4().hex
    request_id.set(rid)
    return rid


def redact(text: str) -> str:
    """`text` with personal data replaced by `[kind]` and secrets by `[secret]`."""
    for pattern in _SECRETS:
        text = pattern.sub("[secret]", text)
    for finding in sorted(scan_text(text), key=lambda f: f.start, reverse=True):
        if finding.kind == "ip_address" and _MACHINE_ADDRESS.match(text, finding.start):
            continue  # this machine's own addresses say where the server listens, nothing about a person
        text = text[: finding.start] + f"[{finding.kind}]" + text[finding.end:]
    return text


class _RedactingFormatter(logging.Formatter):
    """Formats a record, then masks the whole line (message, arguments and traceback alike)."""

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = request_id.get()
        return redact(super().format(record))


class JsonFormatter(_RedactingFormatter):
    """One JSON object per line: time, level, logger, request id, message (and the error, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": request_id.get(),
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """Give every root handler the redacting formatter (JSON when `JSON_LOGS` is on)."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stdout))
    formatter = JsonFormatter() if settings.json_logs else _RedactingFormatter(_TEXT_FORMAT, "%Y-%m-%d %H:%M:%S")
    for handler in root.handlers:
        handler.setFormatter(formatter)
