"""Fixtures of the knowledge tests: the real embedding model and knowledge bases on real Chroma."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from embedding import Embedder, onnx_int8_path, shared_embedder
from knowledge import KnowledgeBase
from settings import Settings, get_settings


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
