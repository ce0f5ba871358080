"""Does the app give memory back after a load? RSS idle, at the peak of 100 sessions x 2 messages, and after.

Issue 15 measured 60 sessions x 2 messages growing the process from 0.97 GB to 6.86 GB for good;
the goal is an RSS after the load within 1.5x of the idle figure. The app runs as the e2e tests
start it (`tests/support/app_server.py`): the embedded model alone, no other backend, rate limit
off. Idle is measured after one warm-up message (model, embedder and database all loaded), after
is measured once every session has disconnected and the process has been quiet for `--settle` s.
The ratio after/idle is the figure: both come from the same process in the same run.

The breakdown says where the resident memory lives (/proc/PID/smaps): the main heap (`[heap]`,
glibc's brk arena: Python objects and small native buffers), other anonymous mappings (the
other threads' glibc arenas and large native buffers such as the model's KV caches), and files
(the model's weights, libraries).

    .venv/bin/python bench/bench_memory_under_load.py [--sessions 100] [--messages 2] [--max-tokens 32]
        [--settle 20] [--env MALLOC_ARENA_MAX=2 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.app_server import AppServer, chat_users  # noqa: E402
from tests.support.socketio_client import ChatSession, sign_in  # noqa: E402

USERS = {"alice": "alice-pw-1"}
#: How the app says a model failed, was paused or was too busy: such an answer is not a real answer.
FAILURE_SIGNS = ("could not answer", "No model could answer", "paused after repeated failures", "so nothing was sent")
GB = 1024 ** 3


def rss_bytes(pid: int) -> int:
    """The process's resident set (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError("no VmRSS")


def breakdown(pid: int) -> dict[str, int]:
    """Resident bytes by kind of mapping: the main heap, other anonymous memory, file-backed."""
    parts = {"heap": 0, "anonymous": 0, "files": 0}
    kind = "anonymous"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:  # a mapping's header line
            name = fields[5] if len(fields) > 5 else ""
            kind = "heap" if name == "[heap]" else "files" if name.startswith("/") else "anonymous"
        elif fields[0] == "Rss:":
            parts[kind] += int(fields[1]) * 1024
    return parts


class PeakSampler:
    """The highest RSS seen while the load runs (sampled twice a second)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            self._stop.wait(0.5)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


async def load(url: str, sessions: int, messages: int) -> tuple[int, int]:
    """`sessions` concurrent chats of `messages` messages each; (answers, failure messages)."""
    cookies = await sign_in(url, "alice", USERS["alice"])
    chats = [ChatSession(url, cookies) for _ in range(sessions)]
    await asyncio.gather(*(chat.connect() for chat in chats))

    async def converse(index: int, chat: ChatSession) -> list[str]:
        answers = []
        for turn in range(messages):
            answer = await chat.send(f"session {index} message {turn}", timeout=1800)
            answers.append((answer or {}).get("output", ""))
        return answers

    try:
        answered = [a for answers in await asyncio.gather(*(converse(i, c) for i, c in enumerate(chats)))
                    for a in answers]
    finally:
        await asyncio.gather(*(chat.close() for chat in chats))
    failed = sum(any(sign in answer for sign in FAILURE_SIGNS) for answer in answered)
    return len(answered), failed


async def warm_up(url: str) -> None:
    cookies = await sign_in(url, "alice", USERS["alice"])
    async with ChatSession(url, cookies) as chat:
        await chat.send("warm-up message", timeout=600)


def gb(value: int) -> str:
    return f"{value / GB:.2f} GB"


def show(label: str, pid: int) -> int:
    rss, parts = rss_bytes(pid), breakdown(pid)
    print(f"{label:<6} RSS {gb(rss)}  (heap {gb(parts['heap'])}, other anonymous {gb(parts['anonymous'])}, "
          f"files {gb(parts['files'])})", flush=True)
    return rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--messages", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=32, help="MAX_OUTPUT_TOKENS of the app")
    parser.add_argument("--settle", type=float, default=20, help="seconds of quiet after the load")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra environment variable for the app (repeatable)")
    args = parser.parse_args()
    env = {"CHAT_USERS": chat_users(USERS), "OLLAMA_ENABLED": "false", "RATE_LIMIT_PER_MINUTE": "0",
           "GEMINI_API_KEY": "", "GOOGLE_API_KEY": "", "OPENAI_API_KEY": "",
           "MAX_OUTPUT_TOKENS": str(args.max_tokens)}
    env |= dict(item.split("=", 1) for item in args.env)
    print(f"{args.sessions} sessions x {args.messages} messages, MAX_OUTPUT_TOKENS={args.max_tokens}, "
          f"extra env: {' '.join(args.env) or 'none'}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as data_dir, \
            AppServer(Path(data_dir), env=env) as server:
        server.wait_for_local_model()
        asyncio.run(warm_up(server.url))
        time.sleep(args.settle)
        idle = show("idle", server.pid)
        started = time.perf_counter()
        with PeakSampler(server.pid) as sampler:
            answered, failed = asyncio.run(load(server.url, args.sessions, args.messages))
        elapsed = time.perf_counter() - started
        print(f"load   {answered} answers ({failed} failure messages) in {elapsed:.0f} s", flush=True)
        time.sleep(args.settle)
        after = show("after", server.pid)
        print(f"peak   RSS {gb(sampler.peak)}", flush=True)
        print(f"ratio  after/idle {after / idle:.2f}  peak/idle {sampler.peak / idle:.2f}  (goal: after/idle <= 1.5)")
    return 0 if answered == args.sessions * args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
