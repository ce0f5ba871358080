"""How long routing takes: privacy scan, complexity score and both, wall clock and CPU, p50 and p99.

    .venv/bin/python bench/bench_routing.py [--repeats 200] [--all-cores] [--no-contextual] [--no-ttft]

Prompts of 100, 1,000 and 10,000 characters (ordinary English prose with numbers, so every
detector runs to the end). Goals (issue 14): privacy scan + complexity score p99 <= 2 ms at
100 characters and <= 10 ms at 1,000, on one core: unless --all-cores the process is pinned
to one CPU and numpy's BLAS uses one thread (--all-cores: as the app runs). Each call's CPU
time (the process's clock: what a free core would take) is shown beside its wall-clock time,
which also counts waiting for a CPU that other processes hold. Measured in the same run: the
previous scorer's main cost, the contextual MiniLM ONNX int8 embedding of the prompt's first
64 tokens (the router now reads a static table distilled from it; --no-contextual skips it),
and the time to first token of the fastest local backend (the embedded model through Foundry
Local) for the same prompt: the whole decision should be small beside it. Without a local
model, --no-ttft skips it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if "--all-cores" not in sys.argv:  # one core: pinned, and numpy's BLAS single-threaded, before anything starts threads
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"

from router.catalog import ModelCatalog  # noqa: E402
from router.decision import RouteRequest  # noqa: E402
from router.policy import RoutingPolicy  # noqa: E402
from router.privacy import scan  # noqa: E402
from router.types import ChatMessage, Health  # noqa: E402
from settings import get_settings  # noqa: E402

SIZES = (100, 1_000, 10_000)
#: p99 goals of scan + score, in milliseconds, per prompt size.
GOALS_MS = {100: 2.0, 1_000: 10.0}
PROSE = (
    "The committee met on 12 March 2024 to review the 2023 budget of 4,250,000 dollars. "
    "Revenue grew 7.5% while costs fell by 1.2 points; the report compares 14 regions and 3 scenarios. "
    "Explain, step by step, how a 30-year mortgage at 6.25% compares with a 15-year loan at 5.5%, "
    "and which assumptions in section 4.2 matter most for a household earning 85,000 a year? "
)


def prompt_of(length: int) -> str:
    return (PROSE * (length // len(PROSE) + 1))[:length]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def timed(action: Callable[[], object], repeats: int) -> list[float]:
    return measured(action, repeats)[0]


def measured(action: Callable[[], object], repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each call, after one call that warms caches (regexes, tokenizer)."""
    action()
    wall, cpu = [], []
    for _ in range(repeats):
        cpu_started, started = time.process_time_ns(), time.perf_counter_ns()
        action()
        wall.append((time.perf_counter_ns() - started) / 1e6)
        cpu.append((time.process_time_ns() - cpu_started) / 1e6)
    return wall, cpu


async def times_to_first_token(prompts: list[str]) -> list[float] | None:
    """Milliseconds to the first token of the embedded local model for each prompt, or None if it cannot run."""
    from router.core import Router

    router = Router.from_settings(get_settings())
    try:
        await router.start()
        states = await router.health()
        spec = next((s for s in router.catalog if s.is_local and states[s.provider].available), None)
        if spec is None:
            return None
        times = []
        for prompt in prompts:
            messages = (ChatMessage("user", prompt),)
            decision = await router.route(RouteRequest(messages=messages, profile=spec.id))
            started = time.perf_counter()
            async for _event in router.stream(decision, list(messages)):
                times.append((time.perf_counter() - started) * 1000)
                break
        return times
    finally:
        await router.aclose()


def contextual_embedding_ms(repeats: int) -> dict[int, tuple[float, float]] | None:
    """CPU p50/p99 of one prompt's contextual MiniLM embedding (64 tokens: the previous scorer's main cost)."""
    from embedding import shared_embedder

    try:
        embedder = shared_embedder(get_settings())
    except Exception as exc:  # noqa: BLE001 - a baseline that cannot load is skipped, and says why
        print(f"previous scorer (contextual MiniLM): unavailable here ({type(exc).__name__}: {exc})")
        return None
    return {size: percentiles(measured(lambda text=prompt_of(size): embedder.embed([text], max_tokens=64), repeats)[1])
            for size in SIZES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--all-cores", action="store_true", help="do not pin the process to one CPU")
    parser.add_argument("--no-contextual", action="store_true",
                        help="skip the previous (contextual MiniLM) scorer's figure")
    parser.add_argument("--no-ttft", action="store_true", help="skip the time-to-first-token baseline")
    args = parser.parse_args()

    catalog = ModelCatalog.load()
    health = {spec.provider: Health(True) for spec in catalog}
    policy = RoutingPolicy.from_settings(get_settings())
    started = time.perf_counter()
    method = policy.scorer.warm_up() if policy.scorer else "none"
    print(f"complexity scorer: {method} (embedding loaded in {time.perf_counter() - started:.1f} s, once per process)")

    embedder = policy.scorer.embedder if policy.scorer else None
    window = policy.scorer.weights.neighbours.max_tokens if policy.scorer else 0
    print(f"embedding: {embedder.name if embedder else 'none'}, {embedder.dimension if embedder else 0} dimensions; "
          f"the complexity model reads a prompt's first {window} tokens")

    pieces: dict[int, dict[str, tuple[list[float], list[float]]]] = {}
    decisions = {}
    load_before = os.getloadavg()[0]
    for size in SIZES:
        text = prompt_of(size)
        request = RouteRequest(messages=(ChatMessage("user", text),))
        score = (lambda: policy.scorer.score(text)) if policy.scorer else (lambda: None)
        pieces[size] = {
            "privacy scan": measured(lambda: scan(text), args.repeats),
            "complexity score": measured(score, args.repeats),
        }
        if policy.scorer:  # where the score's time goes
            vector = policy.scorer.embed([text])
            pieces[size][" its embedding"] = measured(lambda: policy.scorer.embed([text]), args.repeats)
            pieces[size][" its similarities"] = measured(lambda: policy.scorer.score_embedded(vector), args.repeats)
        pieces[size]["scan + score"] = measured(lambda: (scan(text), score()), args.repeats)
        decisions[size] = percentiles(timed(lambda: policy.decide(request, catalog, health), args.repeats))

    cores = "all cores" if args.all_cores else f"pinned to CPU {min(os.sched_getaffinity(0))}"
    print(f"\n{'chars':>6}  {'piece':<17} {'wall p50/p99 ms':>17}  {'CPU p50/p99 ms':>16}  {'goal p99':>8}   ({cores})")
    for size, measures in pieces.items():
        for piece, (wall, cpu) in measures.items():
            goal = f"{GOALS_MS[size]:g} ms" if size in GOALS_MS and piece == "scan + score" else ""
            (wall50, wall99), (cpu50, cpu99) = percentiles(wall), percentiles(cpu)
            print(f"{size:>6}  {piece:<17} {wall50:>8.2f}/{wall99:<8.2f}  {cpu50:>7.2f}/{cpu99:<8.2f}  {goal:>8}")
        p50, p99 = decisions[size]
        print(f"{size:>6}  {'whole decision':<17} {p50:>8.2f}/{p99:<8.2f}")
    print("(CPU: the process's CPU time of each call, what one free core would take; the wall clock also "
          "counts waiting for a CPU other processes hold)")
    print(f"(load average while measuring: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, "
          f"on {os.cpu_count()} cores)")

    contextual_ms = None if args.no_contextual else contextual_embedding_ms(args.repeats)
    if contextual_ms:
        print("\nprevious scorer's main cost: the contextual MiniLM ONNX int8 embedding (first 64 tokens), CPU ms")
        for size, (p50, p99) in contextual_ms.items():
            scan_score50, scan_score99 = percentiles(pieces[size]["scan + score"][1])
            print(f"  {size:>6} chars: p50 {p50:7.2f}, p99 {p99:7.2f}; scan + score now p50 {scan_score50:.2f} "
                  f"({scan_score50 / p50:.0%} of it), p99 {scan_score99:.2f} ({scan_score99 / p99:.0%})")
    ttfts = None if args.no_ttft else asyncio.run(times_to_first_token([prompt_of(size) for size in SIZES]))
    if not ttfts:
        print("\nbaseline: no local model answered here (or --no-ttft); no ratio")
        return
    print("\nbaseline: time to first token of the embedded local model (Foundry Local) for the same prompt")
    for (size, (decide_p50, _p99)), ttft in zip(decisions.items(), ttfts):
        print(f"  {size:>6} chars: first token after {ttft:8.0f} ms; whole decision p50 is {decide_p50 / ttft:6.1%} of it")


if __name__ == "__main__":
    main()
