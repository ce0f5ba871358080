"""Serve the in-browser demo page at /webgpu: the page, the few library files it loads, and the models.

The page runs SmolLM2 (wllama) and MiniLM (transformers.js) in the browser, so the server
only hands out files: nothing typed on the page reaches it. Only an allow-list of files
is served (never the whole node_modules), all from this machine: the page works offline.
The page is public like a static asset: it shows no user data and calls no server model
(`WEBGPU_DEMO=false` removes it, e.g. to save the bandwidth of a 100 MB model download).
The files come from the `webgpu-demo/` folder, its `node_modules` and the prepared models
(`python -m scripts.prepare_webgpu_demo` puts them there).

`app.py` calls `mount_webgpu_demo(app, settings)` once, after importing Chainlit's app.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, Router

from router import ModelPreparationError, find_gguf
from settings import PROJECT_ROOT, Settings

#: The page's own files (index.html, demo.js, style.css) and its npm packages.
DEMO_DIR = PROJECT_ROOT / "webgpu-demo"
NODE_MODULES = DEMO_DIR / "node_modules"
PREFIX = "/webgpu"
_ROUTE_NAME = "webgpu-demo"
_PAGE_FILES = ("index.html", "demo.js", "style.css")
# URL under /webgpu/vendor/ -> file under webgpu-demo/node_modules/.
_VENDOR_FILES = {
    "wllama/index.js": "@wllama/wllama/esm/index.js",
    "wllama/wllama.wasm": "@wllama/wllama/esm/wasm/wllama.wasm",
    "transformers/transformers.min.js": "@huggingface/transformers/dist/transformers.min.js",
    "ort/ort-wasm-simd-threaded.asyncify.mjs": "onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.mjs",
    "ort/ort-wasm-simd-threaded.asyncify.wasm": "onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm",
}
# What transformers.js reads from the exported model folder (it tolerates 404 for optional files).
_EMBEDDING_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "onnx/model.onnx")
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
    ".css": "text/css", ".json": "application/json", ".wasm": "application/wasm",
}
# Chainlit gzips every response at level 9: far too slow for 100 MB of model, and pointless for it.
_NO_COMPRESSION = {"Content-Encoding": "identity"}



def minilm_onnx_dir(settings: Settings) -> Path:
    """The Hugging Face style folder (config, tokenizer, onnx/model.onnx) transformers.js loads.

    Beside the other prepared models, so test servers that share `models/` share it too.
    """
    return settings.models_dir / "all-MiniLM-L6-v2-onnx"


def _file(path: Path, missing_hint: str) -> Response:
    if not path.is_file():
        return PlainTextResponse(f"Not prepared: {missing_hint}", status_code=404)
    media_type = _MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    binary = not (media_type.startswith("text/") or media_type == "application/json")
    headers = _NO_COMPRESSION if binary else {"Cache-Control": "no-cache"}
    return FileResponse(path, media_type=media_type, headers=headers)


def _demo_routes(settings: Settings) -> Router:
    setup_hint = "run `make run` (or `.venv/bin/python -m scripts.prepare_webgpu_demo`)."

    async def page(request: Request) -> Response:
        name = request.path_params.get("name", "index.html")
        if name not in _PAGE_FILES:
            return PlainTextResponse("Not found", status_code=404)
        return _file(DEMO_DIR / name, name)

    async def vendor(request: Request) -> Response:
        relative = _VENDOR_FILES.get(request.path_params["path"])
        if relative is None:
            return PlainTextResponse("Not found", status_code=404)
        return _file(NODE_MODULES / relative, f"npm packages missing; {setup_hint}")

    async def chat_model(request: Request) -> Response:
        try:
            return _file(find_gguf(), "SmolLM2 GGUF")
        except ModelPreparationError as error:
            return PlainTextResponse(str(error), status_code=404)

    async def embedding_model(request: Request) -> Response:
        relative = request.path_params["path"]
        if relative not in _EMBEDDING_FILES:
            return PlainTextResponse("Not found", status_code=404)
        return _file(minilm_onnx_dir(settings) / relative, f"ONNX embedding model missing; {setup_hint}")

    return Router(routes=[
        Route("/", page),
        Route("/vendor/{path:path}", vendor),
        Route("/models/smollm2.gguf", chat_model),
        Route("/models/all-MiniLM-L6-v2/{path:path}", embedding_model),
        Route("/{name}", page),
    ])


def mount_webgpu_demo(app: Starlette, settings: Settings) -> None:
    """Serve the demo under /webgpu/, ahead of Chainlit's catch-all route (which would answer first)."""
    if not settings.webgpu_demo:
        return

    async def add_slash(request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=308)  # the page loads ./demo.js relative to it

    # Chainlit's watch mode re-imports app.py: replace an earlier mount instead of stacking another.
    app.router.routes[:] = [route for route in app.router.routes if getattr(route, "name", None) != _ROUTE_NAME]
    app.router.routes[0:0] = [
        Route(PREFIX, add_slash, name=_ROUTE_NAME),
        Mount(PREFIX, app=_demo_routes(settings), name=_ROUTE_NAME),
    ]
