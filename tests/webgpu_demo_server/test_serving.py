"""mount_webgpu_demo on a small Starlette app with a catch-all route, like Chainlit's SPA route."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from router.embedded_model import find_gguf
from scripts.prepare_webgpu_demo import prepare
from settings import Settings, get_settings
from webgpu_demo_server import minilm_onnx_dir, mount_webgpu_demo


async def spa(request):
    return PlainTextResponse("spa")


def make_app(settings: Settings) -> Starlette:
    app = Starlette(routes=[Route("/{full_path:path}", spa)])
    mount_webgpu_demo(app, settings)
    return app


@pytest.fixture(scope="module")
def client():
    prepare(get_settings(), progress=lambda line: None)
    with TestClient(make_app(get_settings()), follow_redirects=False) as client:
        yield client


def test_the_page_is_served_before_the_catch_all_route(client):
    assert client.get("/webgpu").headers["location"] == "/webgpu/"
    page = client.get("/webgpu/")
    assert page.status_code == 200 and "demo.js" in page.text
    assert client.get("/webgpu/demo.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/elsewhere").text == "spa"


@pytest.mark.parametrize("path", [
    "/webgpu/package.json",
    "/webgpu/vendor/onnxruntime-web/package.json",
    "/webgpu/vendor/wllama/../../package-lock.json",
    "/webgpu/models/all-MiniLM-L6-v2/model.safetensors",
    "/webgpu/models/all-MiniLM-L6-v2/../../settings.py",
])
def test_only_allow_listed_files_are_served(client, path):
    assert client.get(path).status_code == 404


def test_models_are_sent_whole_and_uncompressed(client):
    gguf = client.head("/webgpu/models/smollm2.gguf", headers={"Accept-Encoding": "gzip"})
    assert gguf.status_code == 200
    assert int(gguf.headers["content-length"]) == find_gguf().stat().st_size
    assert gguf.headers["content-encoding"] == "identity"
    onnx = client.head("/webgpu/models/all-MiniLM-L6-v2/onnx/model.onnx")
    assert int(onnx.headers["content-length"]) == (minilm_onnx_dir(get_settings()) / "onnx" / "model.onnx").stat().st_size
    assert client.get("/webgpu/vendor/wllama/wllama.wasm").headers["content-type"] == "application/wasm"


def test_a_missing_export_says_how_to_prepare_it(tmp_path):
    with TestClient(make_app(Settings(DATA_DIR=tmp_path))) as client:
        response = client.get("/webgpu/models/all-MiniLM-L6-v2/config.json")
    assert response.status_code == 404 and "prepare_webgpu_demo" in response.text


def test_mounting_twice_keeps_one_mount():
    app = make_app(get_settings())
    routes = len(app.router.routes)
    mount_webgpu_demo(app, get_settings())
    assert len(app.router.routes) == routes


def test_webgpu_demo_false_leaves_the_app_alone(tmp_path):
    with TestClient(make_app(Settings(DATA_DIR=tmp_path, WEBGPU_DEMO=False))) as client:
        assert client.get("/webgpu/").text == "spa"
