"""The objects the chat works with, built once by app.py: settings, router, knowledge, database, pipeline."""

from __future__ import annotations

from dataclasses import dataclass

from answering import Pipeline
from knowledge import KnowledgeBase
from persistence import HybridDataLayer
from router import Router
from settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    router: Router
    knowledge: KnowledgeBase
    data_layer: HybridDataLayer
    pipeline: Pipeline

    @property
    def engine(self):
        """The database: the data layer's pool, shared with our own tables."""
        return self.data_layer.engine


_installed: Services | None = None


def install(services: Services) -> None:
    global _installed
    _installed = services


def services() -> Services:
    """The app's services; app.py installs them at import, before Chainlit calls any handler."""
    if _installed is None:
        raise RuntimeError("chat.services.install() has not been called (app.py does it)")
    return _installed
