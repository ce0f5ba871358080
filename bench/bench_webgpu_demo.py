"""How fast the /webgpu page's in-browser models are in headless Chromium on this machine.

Figures: SmolLM2 chat tokens/s (wllama, WebAssembly, 1 thread), and MiniLM embedding time
per batch on WebAssembly versus WebGPU on SwiftShader's software adapter (the ratio is why
the page prefers WebAssembly there), with sentence-transformers (torch, CPU) as the baseline.

Run: `.venv/bin/python bench/bench_webgpu_demo.py [--full]` (under 2 minutes; sets up the demo if needed).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

from scripts.prepare_webgpu_demo import prepare  # noqa: E402
from settings import get_settings  # noqa: E402
from webgpu_demo_server import mount_webgpu_demo  # noqa: E402

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--enable-unsafe-webgpu",
]
SENTENCES = [f"Sentence number {i} about routing chat prompts between local and cloud models." for i in range(8)]
PROMPTS = ["What is the capital of France?", "Give me three tips for learning English.", "What is a large language model?"]


def serve_demo() -> str:
    """The demo's routes alone (no Chainlit) on a free port, in a daemon thread."""
    app = Starlette()
    mount_webgpu_demo(app, get_settings())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}/webgpu/"


def open_page(browser, url: str):
    page = browser.new_page()
    page.set_default_timeout(300_000)
    page.goto(url)
    page.wait_for_function("window.demo && window.demo.embeddingsReady && window.demo.chatReady")
    page.evaluate("Promise.all([window.demo.embeddingsReady, window.demo.chatReady])")
    return page


def time_embeddings(page, rounds: int) -> float:
    """Median seconds for one batch, after a warm-up batch (shader compilation, first allocations)."""
    page.evaluate("texts => window.demo.embed(texts)", SENTENCES)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        page.evaluate("texts => window.demo.embed(texts)", SENTENCES)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def chat_speed(page, prompt: str) -> float:
    replies = page.locator("#transcript li.assistant[data-state=done]").count()
    page.fill("#chat-input", prompt)
    page.click("#chat-send")
    page.wait_for_function(f"document.querySelectorAll('#transcript li.assistant[data-state=done]').length > {replies}")
    return float(page.get_attribute("#chat-speed", "data-tokens-per-second"))


def torch_baseline(rounds: int) -> float:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(get_settings().embedding_model_path, device="cpu")
    model.encode(SENTENCES)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        model.encode(SENTENCES)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="more rounds and three chat prompts (~3 min)")
    args = parser.parse_args()
    rounds = 5 if args.full else 2
    prompts = PROMPTS if args.full else PROMPTS[:1]

    from playwright.sync_api import sync_playwright

    prepare(get_settings())
    url = serve_demo()
    baseline = torch_baseline(rounds)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = open_page(browser, url)
        speeds = [chat_speed(page, prompt) for prompt in prompts]
        wasm = time_embeddings(page, rounds)
        page.close()
        page = open_page(browser, url + "?embeddings=webgpu&chat=off")
        webgpu = time_embeddings(page, max(1, rounds // 2))
        browser.close()

    batch = len(SENTENCES)
    print(f"chat (wllama, wasm, 1 thread): {statistics.median(speeds):.1f} tokens/s (median of {len(speeds)} replies)")
    print(f"embeddings, batch of {batch}: torch {baseline * 1000:.0f} ms (baseline)")
    print(f"  browser wasm      {wasm * 1000:.0f} ms  ({wasm / baseline:.1f}x the baseline)")
    print(f"  browser webgpu    {webgpu * 1000:.0f} ms  ({webgpu / baseline:.1f}x the baseline, "
          f"{webgpu / wasm:.0f}x wasm) on SwiftShader's software adapter")


if __name__ == "__main__":
    main()
