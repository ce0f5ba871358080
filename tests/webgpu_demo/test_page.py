"""End to end in headless Chromium: the /webgpu page of the real app runs both models in the browser.

Checks the streamed chat reply, the embeddings against sentence-transformers, the WebGPU
path on SwiftShader's software adapter, the backend choice the page explains, and that
no request leaves 127.0.0.1 (the browser's resolver maps every other host to nothing).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e

SENTENCES = [
    "What is the capital of France?",
    "My credit card number is 4111 1111 1111 1111.",
    "Kemarin saya pergi ke pasar untuk membeli sayur.",
    "short",
    "A much longer sentence about routing prompts between local and cloud language models " * 3,
]
LOAD_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def demo_url(app_server):
    from scripts.prepare_webgpu_demo import prepare
    from settings import get_settings

    # The test app's DATA_DIR/models links to the default models folder, where this exports.
    prepare(get_settings(), progress=lambda line: None)
    return f"{app_server.url}/webgpu/"


@pytest.fixture(scope="module")
def webgpu_browser(browser):
    """Chromium with WebGPU switched on (headless: SwiftShader's software adapter), from the session's Playwright."""
    webgpu = browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--enable-unsafe-webgpu"])
    yield webgpu
    webgpu.close()


class DemoPage:
    """One load of the page with every request it makes (workers included) recorded."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context()
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.set_default_timeout(LOAD_TIMEOUT_MS)
        self.page.goto(url)
        self.page.wait_for_function("window.demo && window.demo.embeddingsReady && window.demo.chatReady")

    def evaluate(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def embeddings_info(self) -> dict:
        return self.evaluate("window.demo.embeddingsReady")

    def chat_info(self) -> dict | None:
        return self.evaluate("window.demo.chatReady")

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.array(self.evaluate("texts => window.demo.embed(texts)", texts))

    def errors(self) -> list[str]:
        return self.evaluate("window.demo.errors")

    def close(self) -> None:
        self.context.close()


def reference_embeddings(texts: list[str]) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    from settings import get_settings

    model = SentenceTransformer(get_settings().embedding_model_path, device="cpu")
    return model.encode(texts, convert_to_numpy=True)


def assert_only_local_requests(requests: list[str], host: str) -> None:
    assert requests, "the page made no request at all"
    foreign = [url for url in requests if not (urlsplit(url).scheme in ("blob", "data") or urlsplit(url).hostname == host)]
    assert foreign == []


@pytest.fixture(scope="module")
def auto_page(webgpu_browser, demo_url):
    """The page as a visitor opens it: it picks the backends itself."""
    page = DemoPage(webgpu_browser, demo_url)
    yield page
    page.close()


def test_page_explains_why_it_does_not_use_the_software_adapter(auto_page):
    embeddings = auto_page.embeddings_info()
    chat = auto_page.chat_info()
    assert embeddings["backend"] == "wasm"
    assert "software (fallback)" in embeddings["reason"]
    assert chat == {"backend": "wasm (CPU)", "reason": "the only WebGPU adapter is a software (fallback) one", "threads": 1}
    shown = auto_page.page.inner_text("#embed-facts")
    assert "swiftshader" in shown.lower() and "shader-f16 no" in shown
    assert auto_page.errors() == []


def test_chat_streams_a_reply_with_its_speed(auto_page):
    page = auto_page.page
    # Every text the reply bubble shows, to see it grow token by token.
    page.evaluate("""() => {
        window.replyTexts = [];
        new MutationObserver(() => {
            const reply = document.querySelector('#transcript li.assistant:last-child');
            if (reply) window.replyTexts.push(reply.textContent);
        }).observe(document.querySelector('#transcript'), { subtree: true, childList: true, characterData: true });
    }""")
    page.fill("#chat-input", "What is the capital of France?")
    page.click("#chat-send")
    page.wait_for_selector("#transcript li.assistant[data-state=done]")
    final = page.inner_text("#transcript li.assistant").strip()
    assert final not in ("", "…")
    partials = [text for text in dict.fromkeys(page.evaluate("window.replyTexts")) if text not in ("…", final)]
    assert partials, "the reply appeared only once complete, not streamed"
    assert all(final.startswith(text.strip()) for text in partials)
    assert float(page.get_attribute("#chat-speed", "data-tokens-per-second")) > 0
    assert "tokens/s" in page.inner_text("#chat-speed")
    # The message was checked before sending (and is not sensitive).
    assert page.get_attribute("#check-result", "data-flagged") == "false"
    assert auto_page.errors() == []


def test_embeddings_match_sentence_transformers_on_wasm(auto_page):
    in_browser = auto_page.embed(SENTENCES)
    expected = reference_embeddings(SENTENCES)
    assert in_browser.shape == expected.shape == (len(SENTENCES), 384)
    assert np.abs(in_browser - expected).max() < 1e-4


def test_check_before_sending_flags_only_sensitive_messages(auto_page):
    check = "text => window.demo.check(text)"
    card = auto_page.evaluate(check, "my visa card number is 5500 0000 0000 0004")
    assert card["flagged"] and "credit card" in card["example"]
    harmless = auto_page.evaluate(check, "Write a haiku about the sea.")
    assert not harmless["flagged"]


def test_no_request_leaves_the_machine(auto_page, app_server):
    requested_paths = {urlsplit(url).path for url in auto_page.requests}
    assert {"/webgpu/models/smollm2.gguf", "/webgpu/models/all-MiniLM-L6-v2/onnx/model.onnx"} <= requested_paths
    assert_only_local_requests(auto_page.requests, urlsplit(app_server.url).hostname)


def test_webgpu_path_on_the_software_adapter(webgpu_browser, demo_url, app_server):
    page = DemoPage(webgpu_browser, demo_url + "?embeddings=webgpu&chat=off")
    try:
        embeddings = page.embeddings_info()
        assert embeddings["backend"] == "webgpu"
        assert "forced by ?embeddings=webgpu" in embeddings["reason"]
        assert page.chat_info() is None
        tiny = ["hi there"]
        assert np.abs(page.embed(tiny) - reference_embeddings(tiny)).max() < 1e-3
        assert page.errors() == []
        assert_only_local_requests(page.requests, urlsplit(app_server.url).hostname)
    finally:
        page.close()


def test_without_webgpu_the_page_says_so(browser, demo_url):
    """The shared browser has no --enable-unsafe-webgpu: no adapter, so WebAssembly and the reason."""
    page = DemoPage(browser, demo_url + "?chat=off")
    try:
        embeddings = page.embeddings_info()
        assert embeddings["backend"] == "wasm"
        assert embeddings["reason"].startswith("WebGPU is ")
        assert page.errors() == []
    finally:
        page.close()
