"""Start the app: what `chainlit run app.py --headless` does, on uvloop and without `nest_asyncio`.

    python -m scripts.serve --host 127.0.0.1 --port 8000     # `make run` and the container call this

Why not `chainlit run`: Chainlit's CLI applies `nest_asyncio` as soon as it is imported, which swaps
asyncio's C tasks and futures for pure-Python ones, and it serves on the standard event loop. The
same start-up on uvloop with httptools took 46-58 ms of CPU per message instead of 56-73 with 20
users chatting at once (`bench/bench_concurrency.py`, three alternating pairs). Nothing here needs a
re-entrant event loop: the one nested run Chainlit makes (a session's profile configuration) is
replaced by `chat.workarounds.configure_sessions_without_nesting`.

Chainlit's own environment variables keep their meaning: CHAINLIT_ROOT_PATH, CHAINLIT_SSL_CERT and
CHAINLIT_SSL_KEY, UVICORN_WS_PER_MESSAGE_DEFLATE.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

ROOT = Path(__file__).resolve().parent.parent  # Chainlit reads .chainlit/, public/ and app.py from the working folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("CHAINLIT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CHAINLIT_PORT", "8000")))
    args = parser.parse_args(argv)
    os.chdir(ROOT)

    from chainlit.auth import ensure_jwt_secret
    from chainlit.config import config, load_module
    from chainlit.markdown import init_markdown

    config.run.host, config.run.port, config.run.headless = args.host, args.port, True
    config.run.root_path = os.environ.get("CHAINLIT_ROOT_PATH", "")
    from chainlit.server import app  # before the app module, whose decorators register on it

    config.run.module_name = "app.py"
    load_module(config.run.module_name)
    ensure_jwt_secret()
    init_markdown(config.root)
    uvicorn.run(
        app, host=args.host, port=args.port, loop="uvloop", http="httptools", log_level="error",
        ws_per_message_deflate=os.environ.get("UVICORN_WS_PER_MESSAGE_DEFLATE", "true").lower() in ("true", "1", "yes"),
        ssl_certfile=os.environ.get("CHAINLIT_SSL_CERT"), ssl_keyfile=os.environ.get("CHAINLIT_SSL_KEY"),
    )


if __name__ == "__main__":
    main()
