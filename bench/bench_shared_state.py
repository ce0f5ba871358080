"""What keeping the rate limit, lockouts and sign-outs in the database adds to each message and request.

Three stores, measured in the same run, calls interleaved so machine noise hits all alike:
- memory: what every process did before (a dict per process; `MemoryState` below, the same
  fixed-window algorithm, so only the storage differs),
- SQLite: `persistence.SharedState` on a WAL file (one instance),
- PostgreSQL: `persistence.SharedState` on a throw-away server on 127.0.0.1 (several instances;
  the test server runs with fsync=off, so a production server's commits cost somewhat more).
Paths measured, each through the app's real code:
- message: the admission of a chat message or an API call (`Limits.admit`: size check and one
  rate-limit take; the rate limit counts both alike),
- API call: an HTTP request through the `SignInGuard` middleware (an API key is no session token:
  no revocation lookup) to an endpoint that admits the message, as `/v1/chat/completions` does,
- browser request: an HTTP request with a session cookie through `SignInGuard` (one revocation
  lookup) to a trivial endpoint: every page, file and socket connection of a signed-in user.

    .venv/bin/python bench/bench_shared_state.py            # 2,000 calls per path and store
    .venv/bin/python bench/bench_shared_state.py --quick    # 300
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import jwt  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402

from operations import Limits  # noqa: E402
from persistence import RateWindow, SharedState, create_engine, upgrade_database  # noqa: E402
from signin.guard import GuardState, SignInGuard  # noqa: E402

USERS = 50
SECRET = "bench-shared-state-" + uuid.uuid4().hex


class MemoryState:
    """The former per-process state: the same windows and marks in dicts (the "before" of this benchmark)."""

    def __init__(self) -> None:
        self._windows: dict[str, RateWindow] = {}
        self._revoked: dict[str, float] = {}

    async def take(self, key: str, *, window_s: float, now: float) -> RateWindow:
        window = self._windows.get(key)
        if window is None or window.ends_at <= now:
            window = RateWindow(0, now, now + window_s)
        self._windows[key] = window = RateWindow(window.count + 1, window.started_at, window.ends_at)
        return window

    async def revoke(self, token_digest: str, *, expires_at: float, now: float) -> None:
        self._revoked[token_digest] = expires_at

    async def is_revoked(self, token_digest: str) -> bool:
        return token_digest in self._revoked


def api_app(limits: Limits):
    """An endpoint admitting the posted message, as the gateway's chat completions do before routing."""

    async def app(scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await limits.admit(scope["path"].rsplit("/", 1)[-1], [body.decode()])
        await PlainTextResponse("ok")(scope, receive, send)

    return app


async def page(scope, receive, send) -> None:
    await PlainTextResponse("ok")(scope, receive, send)


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


class Paths:
    """The three measured paths on one store."""

    def __init__(self, store) -> None:
        self.limits = Limits(store, rate_per_minute=10**9)  # counted, never refused
        guard = GuardState(lambda user: True, store)
        self.api = client(SignInGuard(api_app(self.limits), guard))
        self.browser = client(SignInGuard(page, guard))

    async def message(self, i: int) -> None:
        await self.limits.admit(f"user-{i % USERS}", ["Say hello."])

    async def api_call(self, i: int) -> None:
        response = await self.api.post(f"/v1/user-{i % USERS}", content=b"Say hello.",
                                       headers={"authorization": "Bearer sk-hybrid-not-a-session-token"})
        assert response.status_code == 200

    async def browser_request(self, i: int, cookies: dict[str, str]) -> None:
        response = await self.browser.get("/", cookies=cookies)
        assert response.status_code == 200

    async def aclose(self) -> None:
        await self.api.aclose()
        await self.browser.aclose()


def percentile(samples: list[float], share: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[round(share * 100) - 1]


async def measure(stores: dict[str, Paths], calls: int) -> dict[str, dict[str, list[float]]]:
    session = jwt.encode({"identifier": "user-0", "metadata": {}, "exp": int(time.time()) + 3600}, SECRET,
                         algorithm="HS256")
    cookies = {"access_token": session}
    for paths in stores.values():  # a revoked token among the live ones, as after sign-outs
        await paths.limits.shared.revoke("0" * 64, expires_at=time.time() + 3600, now=time.time())
    kinds = {
        "message": lambda paths, i: paths.message(i),
        "API call": lambda paths, i: paths.api_call(i),
        "browser request": lambda paths, i: paths.browser_request(i, cookies),
    }
    samples = {kind: {name: [] for name in stores} for kind in kinds}
    for kind, call in kinds.items():
        for name, paths in stores.items():  # warm-up: connections, prepared statements
            for i in range(20):
                await call(paths, i)
        for i in range(calls):
            for name, paths in stores.items():
                start = time.perf_counter()
                await call(paths, i)
                samples[kind][name].append((time.perf_counter() - start) * 1000)
    return samples


def report(samples: dict[str, dict[str, list[float]]]) -> None:
    for kind, by_store in samples.items():
        base50, base95 = (percentile(by_store["memory"], p) for p in (0.5, 0.95))
        print(f"\n{kind}")
        print(f"  {'store':<11}{'p50 ms':>9}{'p95 ms':>9}{'added p50':>11}{'added p95':>11}{'ratio p50':>11}")
        for name, values in by_store.items():
            p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
            print(f"  {name:<11}{p50:9.3f}{p95:9.3f}{p50 - base50:+11.3f}{p95 - base95:+11.3f}{p50 / base50:10.1f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="300 calls per path and store")
    parser.add_argument("--no-postgres", action="store_true", help="memory and SQLite only")
    args = parser.parse_args()
    calls = 300 if args.quick else 2000
    os.environ["CHAINLIT_AUTH_SECRET"] = SECRET
    with tempfile.TemporaryDirectory(prefix="bench-shared-state-") as tmp, contextlib.ExitStack() as servers:
        urls = {"SQLite": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"}
        if not args.no_postgres:
            from tests.support.postgres import find_postgres_bin, running_postgres

            if find_postgres_bin() is None:
                print("[PostgreSQL] skipped: not installed")
            else:
                urls["PostgreSQL"] = servers.enter_context(running_postgres()).create_database("bench")
        stores = {"memory": Paths(MemoryState())}
        engines = []
        try:
            for name, url in urls.items():
                await upgrade_database(url)
                engines.append(engine := create_engine(url))
                stores[name] = Paths(SharedState(engine))
            print(f"{calls} calls per path and store, interleaved; {USERS} users; times in ms; "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            report(await measure(stores, calls))
            print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
        finally:
            for paths in stores.values():
                await paths.aclose()
            for engine in engines:
                await engine.dispose()

if __name__ == "__main__":
    asyncio.run(main())
