"""First token for 1 and 20 concurrent chat users: Hybrid Chat beside the Module08 course sample, same run.

Drives `../shared/peer/` (beside the project root): its fake OpenAI-compatible server (0.5 s
prefill, then 50 tokens 20 ms apart) serves three apps: the Module08 sample app (Chainlit +
a synchronous OpenAI client), the thinnest async Chainlit app (`_thinnest_chainlit_app.py`: the
floor of what Chainlit itself costs here) and Hybrid Chat pinned to the GPT profile, whose
`OPENAI_BASE_URL` is the fake. The peer's browser-less socket.io client signs in, opens
sessions and measures, per message, the time from sending it to the first streamed token.

Each round measures, app after app: 1 user (one session, `--single` messages one after another)
and N users (N sessions at once, `--messages` each). It prints first-token p50/p95 per app and the
ratio that matters under load, N-user p95 / 1-user p95 (issue 15's goal: <= 1.2 for Hybrid Chat).
Absolute figures depend on how busy the machine is; the ratios, measured in the same run, less so.
Beside them: the app's CPU time per message under load (its work, whatever else runs on the
machine) and the share of a core the client and the fake provider used (near 100%, they and not
the app would be what is measured).

    .venv/bin/python bench/bench_concurrency.py                  # 2 rounds, ~2 min after start-up
    .venv/bin/python bench/bench_concurrency.py --rounds 1 --only ours
    .venv/bin/python bench/bench_concurrency.py --py-spy ours.svg        # profile Hybrid Chat's N-user loads
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.ports import free_port  # noqa: E402

PEER = ROOT.parent / "shared" / "peer"
FLOOR_APP = Path(__file__).resolve().parent / "_thinnest_chainlit_app.py"
PROFILE = "GPT-4.1 mini"  # Hybrid Chat's chat profile of the OpenAI-compatible model
SECRET = "bench-concurrency-secret-0123456789abcdef0123"
OUR_USERS = [("alice", "alice-pw-1"), ("bob", "bob-pw-2")]
PEER_USERS = [("u1", "x"), ("u2", "y")]


def start(args: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    """A server in its own process group (stopped with everything it started)."""
    with open(log, "wb") as out:
        return subprocess.Popen(args, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


def wait_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited; its log:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not come up; its log:\n{log.read_text()[-3000:]}")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (what the peer client reports), in seconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def load(client, base: str, users: list[tuple[str, str]], profile: str, sessions: int,
               messages: int) -> tuple[list[float], list[str]]:
    """First-token times (s) of `sessions` concurrent sessions × `messages` each, and any problems."""
    tokens = {user: await client.login(base, user, pw) for user, pw in users}
    ttfts: list[float] = []
    problems: list[str] = []

    async def one(index: int) -> None:
        user = users[index % len(users)][0]
        session = client.Session(base, tokens[user], user, profile)
        try:
            await session.connect()
            for k in range(messages):
                turn = await session.ask(f"Say hello to session {index}, message {k}.")
                if turn["ttft_s"] is None or not turn["output"].strip():
                    problems.append(f"session {index} message {k}: no answer streamed")
                elif "could not answer" in turn["output"] or "No model" in turn["output"]:
                    problems.append(f"session {index} message {k}: {turn['output'][-120:]}")
                else:
                    ttfts.append(turn["ttft_s"])
        except Exception as exc:  # a session that failed is reported, the others still count
            problems.append(f"session {index}: {type(exc).__name__}: {exc}")
        finally:
            await session.close()

    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(sessions))), timeout=600)
    return ttfts, problems


def cpu_seconds(pid: int) -> float:
    """CPU time the process (all its threads) has used: work per message, whatever else runs on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def figures(ttfts: list[float]) -> str:
    return f"p50 {percentile(ttfts, .5):5.2f} s  p95 {percentile(ttfts, .95):5.2f} s  (n={len(ttfts)})"


async def measure(peer_harness: Path, apps: dict[str, tuple[str, list, str]], pids: dict[str, int], users: int, messages: int, single: int, rounds: int,
                  profiler: callable) -> None:
    sys.path.insert(0, str(peer_harness))
    import chainlit_client as client

    for name, (base, accounts, profile) in apps.items():  # warm up: first connections, models, database
        _, problems = await load(client, base, accounts, profile, 2, 1)
        if problems:
            raise SystemExit(f"{name} does not answer: {problems[:3]}")
    ratios: dict[str, list[float]] = {name: [] for name in apps}
    for round_ in range(1, rounds + 1):
        print(f"Round {round_}")
        for name, (base, accounts, profile) in apps.items():
            one_user, problems_1 = await load(client, base, accounts, profile, 1, single)
            cpu, own_cpu, wall = cpu_seconds(pids[name]), time.process_time(), time.perf_counter()
            provider_cpu = cpu_seconds(pids["provider"])
            with profiler(name):
                many, problems_n = await load(client, base, accounts, profile, users, messages)
            cpu_ms = 1000 * (cpu_seconds(pids[name]) - cpu) / (users * messages)
            # The client's own share of a core: near 100%, its timestamps lag and the figures are the client's.
            elapsed = time.perf_counter() - wall
            client_busy = (time.process_time() - own_cpu) / elapsed
            provider_busy = (cpu_seconds(pids["provider"]) - provider_cpu) / elapsed
            for problem in (problems_1 + problems_n)[:5]:
                print(f"  ! {name}: {problem}")
            if not one_user or not many:
                continue
            ratio = percentile(many, .95) / percentile(one_user, .95)
            ratios[name].append(ratio)
            print(f"  {name:<12}  1 user:   {figures(one_user)}")
            print(f"  {'':<12} {users:>2} users: {figures(many)}   p95 ratio {ratio:.2f}x   "
                  f"server CPU {cpu_ms:.0f} ms/message, client {100 * client_busy:.0f}% of a core, "
                  f"provider {100 * provider_busy:.0f}%")
    print(f"\n{users}-user p95 / 1-user p95 (goal for Hybrid Chat <= 1.2):")
    for name, values in ratios.items():
        if values:
            spread = f" (rounds: {', '.join(f'{v:.2f}' for v in values)})" if len(values) > 1 else ""
            print(f"  {name:<12} {statistics.median(values):.2f}x{spread}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent sessions of the loaded measurement")
    parser.add_argument("--messages", type=int, default=2, help="messages per session under load")
    parser.add_argument("--single", type=int, default=6, help="messages of the one-user measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=("ours", "module08", "floor"), help="measure one app only")
    parser.add_argument("--peer", type=Path, default=PEER, help="the peer harness (default ../shared/peer)")
    parser.add_argument("--py-spy", type=Path, metavar="SVG",
                        help="record Hybrid Chat's CPU samples (py-spy on PATH, --gil) during its loaded measurements")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for Hybrid Chat (repeatable), e.g. BACKEND_MAX_PARALLEL=32")
    parser.add_argument("--keep-logs", type=Path, metavar="DIR", help="copy the servers' logs here")
    args = parser.parse_args()
    peer_harness = args.peer.resolve()
    if not (peer_harness / "chainlit_client.py").exists():
        raise SystemExit(f"no peer harness at {peer_harness} (../shared/peer beside the project root)")
    chainlit = str(Path(sys.executable).parent / "chainlit")
    ports = {name: free_port() for name in ("fake", "module08", "floor", "ours")}
    fake_url = f"http://127.0.0.1:{ports['fake']}"
    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as tmp, ExitStack() as servers:
        tmp = Path(tmp)
        data_dir, peer_dir = tmp / "data", tmp / "module08"
        data_dir.mkdir()
        peer_dir.mkdir()
        if (ROOT / "data" / "models").exists():  # the embedded model, converted once by `make run`/`make test`
            (data_dir / "models").symlink_to((ROOT / "data" / "models").resolve())
        started: list[tuple[subprocess.Popen, Path]] = []

        def run(args_: list[str], cwd: Path, env: dict[str, str], log_name: str) -> subprocess.Popen:
            log = tmp / log_name
            process = start(args_, cwd=cwd, env=env, log=log)
            servers.callback(stop, process)
            started.append((process, log))
            return process

        provider = run([sys.executable, str(peer_harness / "fake_openai.py"), str(ports["fake"]), "50", "0.02", "0.5"],
                       tmp, {}, "fake.log")
        pids: dict[str, int] = {"provider": provider.pid}
        apps: dict[str, tuple[str, list, str]] = {}
        auth = {"CHAINLIT_AUTH_SECRET": SECRET}
        if args.only in (None, "module08"):
            peer = run([chainlit, "run", str(peer_harness / "module08_app.py"), "--headless", "--host", "127.0.0.1",
                        "--port", str(ports["module08"])], peer_dir, {**auth, "BASE_URL": fake_url}, "module08.log")
            apps["Module08"] = (f"http://127.0.0.1:{ports['module08']}", PEER_USERS, "")
            pids["Module08"] = peer.pid
        if args.only in (None, "floor"):
            floor_dir = tmp / "floor"
            floor_dir.mkdir()
            floor = run([chainlit, "run", str(FLOOR_APP), "--headless", "--host", "127.0.0.1", "--port",
                         str(ports["floor"])], floor_dir, {**auth, "BASE_URL": fake_url}, "floor.log")
            apps["Chainlit floor"] = (f"http://127.0.0.1:{ports['floor']}", PEER_USERS, "")
            pids["Chainlit floor"] = floor.pid
        if args.only in (None, "ours"):
            ours_env = {
                **auth, "DATA_DIR": str(data_dir), "CHAT_USERS": ",".join(f"{u}:{p}" for u, p in OUR_USERS),
                "RATE_LIMIT_PER_MINUTE": "0", "OPENAI_BASE_URL": f"{fake_url}/v1", "OPENAI_API_KEY": "peer",
                "OPENAI_MODEL": "fake-gpt", "LOG_LEVEL": "WARNING", "DATABASE_URL": "",
                **dict(setting.split("=", 1) for setting in args.env),
            }
            ours = run([sys.executable, "-m", "scripts.serve", "--host", "127.0.0.1", "--port", str(ports["ours"])],
                       ROOT, ours_env, "ours.log")
            apps["Hybrid Chat"] = (f"http://127.0.0.1:{ports['ours']}", OUR_USERS, PROFILE)
            pids["Hybrid Chat"] = ours.pid
        try:
            for (process, log), (name, (base, _, _)) in zip(started[1:], apps.items()):
                wait_up(base + ("/readyz" if name == "Hybrid Chat" else "/"), process, log)
            print(f"Fake provider {fake_url} (0.5 s prefill, 50 tokens 20 ms apart); "
                  f"{args.users} users x {args.messages} messages, 1 user x {args.single} messages\n")
            asyncio.run(measure(peer_harness, apps, pids, args.users, args.messages, args.single, args.rounds,
                                py_spy(args.py_spy, pids.get("Hybrid Chat"))))
        finally:
            if args.keep_logs:
                args.keep_logs.mkdir(parents=True, exist_ok=True)
                for _, log in started:
                    shutil.copy(log, args.keep_logs / log.name)


def py_spy(svg: Path | None, pid: int | None):
    """A context manager per loaded measurement: py-spy records Hybrid Chat's process meanwhile (or nothing)."""
    from contextlib import contextmanager

    @contextmanager
    def profiler(name: str):
        if svg is None or pid is None or name != "Hybrid Chat":
            yield
            return
        target = svg.with_name(f"{svg.stem}-{time.strftime('%H%M%S')}{svg.suffix}")
        recorder = subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--rate", "100", "--nonblocking", "--gil",
                                     "--output", str(target), "--format", "flamegraph" if svg.suffix == ".svg"
                                     else "raw"], stdout=subprocess.DEVNULL, stderr=open(target.with_suffix(".log"), "wb"))
        try:
            yield
        finally:
            recorder.send_signal(2)  # py-spy writes its output on SIGINT
            recorder.wait(timeout=60)
            print(f"  (py-spy: {target})")

    return profiler


if __name__ == "__main__":
    main()
