"""The router's command line: `python -m router <command>`.

    python -m router health [--json]   every backend, its kind, and why it is unavailable
    python -m router score < in.jsonl  route {"id", "prompt"} lines without calling a model

Each command is a function registered in `COMMANDS`; adding one is a new entry there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable

from router.core import Router
from settings import get_settings


async def _health_report() -> list[dict]:
    router = Router.from_settings(get_settings())
    try:
        await router.start()  # loads the in-process model, so its health is real
        states = await router.health()
        rows = []
        for name, state in states.items():
            backend = router.backends.get(name)
            models = [spec.model for spec in router.catalog if spec.provider == name]
            rows.append({
                "backend": name,
                "kind": backend.kind if backend else next(s.kind for s in router.catalog if s.provider == name),
                "available": state.available,
                "reason": state.reason,
                "models": models,
            })
        return rows
    finally:
        await router.aclose()


def health(args: argparse.Namespace) -> int:
    """Print each backend's state; exit 0 when at least one can answer."""
    rows = asyncio.run(_health_report())
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(row["backend"]) for row in rows) if rows else 0
        for row in rows:
            state = "available" if row["available"] else f"unavailable: {row['reason']}"
            print(f"{row['backend']:<{width}}  {row['kind']:<5}  {', '.join(row['models'])}  {state}")
    return 0 if any(row["available"] for row in rows) else 1


async def _live_health() -> dict:
    router = Router.from_settings(get_settings())
    try:
        return await router.health()
    finally:
        await router.aclose()


def score(args: argparse.Namespace) -> int:
    """Write one JSON decision per input line; exit 1 if any line was malformed."""
    from router.batch_score import assume_available, score_lines
    from router.policy import RoutingPolicy
    from router.registry import load_catalog

    settings = get_settings()
    catalog = load_catalog(settings)
    health_states = asyncio.run(_live_health()) if args.live_health else assume_available(catalog)
    policy = RoutingPolicy.from_settings(settings)
    errors = 0
    for row in score_lines(sys.stdin, policy, catalog, health_states, batch_size=args.batch_size):
        errors += "error" in row
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    if errors:
        print(f"{errors} malformed input line(s); see the 'error' fields", file=sys.stderr)
    return 1 if errors else 0


def _score_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--live-health", action="store_true",
                        help="check the backends once (default: assume all available, route as the policy wants)")
    parser.add_argument("--batch-size", type=int, default=256, help="prompts embedded together")


#: command name -> (handler, help, function adding its arguments)
COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str, Callable[[argparse.ArgumentParser], None]]] = {
    "health": (health, "list the backends and whether they can answer",
               lambda p: p.add_argument("--json", action="store_true", help="machine-readable output")),
    "score": (score, "route JSONL prompts from stdin to JSONL decisions on stdout, calling no model",
              _score_arguments),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m router", description="Hybrid Chat's model router.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (handler, help_text, add_arguments) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        add_arguments(sub)
        sub.set_defaults(handler=handler)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
