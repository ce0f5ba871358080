"""Operations: what the chat and the API share to be run, watched and kept within limits.

Owns the Prometheus metrics (`observe_route`, `observe_lines`, `observe_answer`, `count_error`, `count_ingestion`,
`observe_health`, `exposition`), the log lines (`configure_logging`: a request id on every line,
personal data and secrets masked; `bind_request_id` where a message enters) and the per-user
limits (`await Limits.admit(user, [text], admin=...)`, raising `LimitExceeded` whose `.message` is
for the user; `await Limits.budget_spent(engine, user)` for the routing policy; the rate is counted
in the database, so it holds across instances). The chat and
the API call the same functions (through the answering pipeline), so one dashboard, one log
format and one rate and budget cover both. `return_freed_memory()` at start-up lets memory
freed after a load leave the process (glibc's mmap threshold fixed).
"""

from operations.limits import LimitExceeded, Limits
from operations.memory import return_freed_memory
from operations.metrics import (
    count_error, count_ingestion, exposition, observe_answer, observe_health, observe_lines, observe_route,
)
from operations.request_logs import bind_request_id, configure_logging

__all__ = [
    "LimitExceeded", "Limits", "bind_request_id", "configure_logging", "count_error", "count_ingestion", "exposition",
    "observe_answer", "observe_health", "observe_lines", "observe_route", "return_freed_memory",
]
