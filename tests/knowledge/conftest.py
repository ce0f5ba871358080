"""Fixtures of the knowledge tests: the real embedding model, real Chroma, PDFs made with fpdf2."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from knowledge import Embedder, KnowledgeBase
from knowledge._embedding import shared_embedder
from knowledge._onnx_export import onnx_int8_path
from settings import Settings, get_settings
from tests.support.knowledge_pdfs import free_port


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return shared_embedder(get_settings())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(DATA_DIR=tmp_path / "data")


@pytest.fixture
def cli_settings(settings: Settings) -> Settings:
    """`settings` whose DATA_DIR already holds the exported embedding model: subprocesses skip the export."""
    default = get_settings()
    if default.embedding_backend == "onnx-int8":
        copy = onnx_int8_path(settings.embedding_model_path, settings.models_dir)
        copy.parent.mkdir(parents=True)
        shutil.copyfile(onnx_int8_path(default.embedding_model_path, default.models_dir), copy)
    return settings


@pytest.fixture
def make_kb(embedder: Embedder) -> Iterator[Callable[[Settings], KnowledgeBase]]:
    opened: list[KnowledgeBase] = []

    def make(settings: Settings) -> KnowledgeBase:
        kb = KnowledgeBase(settings, embedder=embedder)
        opened.append(kb)
        return kb

    yield make
    for kb in opened:
        kb.close()


@pytest.fixture
def kb(make_kb, settings: Settings) -> KnowledgeBase:
    return make_kb(settings)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server on a free local port, stopped after the session."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path_factory.mktemp("chroma-server")), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chroma server did not start") from None
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
