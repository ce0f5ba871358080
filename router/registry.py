"""Build the backends the settings enable, one per provider named in the catalog.

A provider that has no key or no server is still built: its `health()` says why it
is unavailable, so the UI and `python -m router health` can tell users what to set.
Building never touches the network and never fails for a missing provider.
"""

from __future__ import annotations

from collections.abc import Callable

from router.backends.base import Backend
from router.catalog import ModelCatalog, ModelSpec
from settings import Settings


def _model_of(catalog: ModelCatalog, provider: str) -> ModelSpec | None:
    return next((spec for spec in catalog if spec.provider == provider), None)


def _foundry_local(settings: Settings, catalog: ModelCatalog) -> Backend:
    from router.backends.foundry_local import FoundryLocalBackend
    from router.embedded_model import EMBEDDED_MODEL_NAME, embedded_model_dir

    spec = _model_of(catalog, "foundry-local")
    model = spec.model if spec else EMBEDDED_MODEL_NAME
    if model == EMBEDDED_MODEL_NAME:
        model = str(embedded_model_dir(settings.models_dir))
    return FoundryLocalBackend(model=model, app_data_dir=settings.data_dir / "foundry",
                               max_parallel=settings.foundry_max_parallel)


def _ollama(settings: Settings, catalog: ModelCatalog) -> Backend:
    from router.backends.ollama import OllamaBackend

    spec = _model_of(catalog, "ollama")
    return OllamaBackend(
        model=spec.model if spec else "", base_url=settings.ollama_base_url,
        connect_timeout_s=settings.connect_timeout_s, read_timeout_s=settings.first_token_timeout_s,
    )


def _gemini(settings: Settings, catalog: ModelCatalog) -> Backend:
    from router.backends.gemini import GeminiBackend

    spec = _model_of(catalog, "gemini")
    return GeminiBackend(
        model=spec.model if spec else "", api_key=settings.gemini_key, base_url=settings.gemini_base_url or None,
        total_timeout_s=settings.total_timeout_s,
    )


def _openai(settings: Settings, catalog: ModelCatalog) -> Backend:
    from router.backends.gpt import GPTBackend

    spec = _model_of(catalog, "openai")
    return GPTBackend(
        model=spec.model if spec else "", api_key=settings.openai_api_key, base_url=settings.openai_base_url or None,
        connect_timeout_s=settings.connect_timeout_s, read_timeout_s=settings.first_token_timeout_s,
    )


#: provider name -> factory. Providers the catalog names but this table lacks are skipped.
BACKEND_FACTORIES: dict[str, Callable[[Settings, ModelCatalog], Backend]] = {
    "foundry-local": _foundry_local,
    "ollama": _ollama,
    "gemini": _gemini,
    "openai": _openai,
}


def load_catalog(settings: Settings) -> ModelCatalog:
    """The catalog from `MODELS_FILE` (or the default), with per-provider env overrides applied."""
    catalog = ModelCatalog.load(settings.models_file)
    return catalog.with_overrides({
        "foundry-local": settings.foundry_model,
        "ollama": settings.ollama_model,
        "gemini": settings.gemini_model,
        "openai": settings.openai_model,
    })


def build_backends(settings: Settings, catalog: ModelCatalog) -> dict[str, Backend]:
    """One backend per provider the catalog uses and the settings enable."""
    providers = dict.fromkeys(spec.provider for spec in catalog)
    if not settings.foundry_enabled:
        providers.pop("foundry-local", None)
    if not settings.ollama_enabled:
        providers.pop("ollama", None)
    return {name: BACKEND_FACTORIES[name](settings, catalog) for name in providers if name in BACKEND_FACTORIES}
