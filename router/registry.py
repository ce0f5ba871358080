"""Build the backends the settings enable, one per provider named in the catalog.

A provider that has no key or no server is still built: its `health()` says why it
is unavailable, so the UI and `python -m router health` can tell users what to set.
"""

from __future__ import annotations

from collections.abc import Callable

from router.backends.base import Backend
from router.catalog import ModelCatalog
from settings import Settings


def _foundry_local(settings: Settings, catalog: ModelCatalog) -> Backend:
    from router.backends.foundry_local import FoundryLocalBackend
    from router.embedded_model import EMBEDDED_MODEL_NAME, embedded_model_dir

    spec = next((s for s in catalog if s.provider == "foundry-local"), None)
    model = spec.model if spec else EMBEDDED_MODEL_NAME
    if model == EMBEDDED_MODEL_NAME:
        model = str(embedded_model_dir(settings.models_dir))
    return FoundryLocalBackend(model=model, app_data_dir=settings.data_dir / "foundry")


#: provider name -> factory. Providers the catalog names but this table lacks are skipped.
BACKEND_FACTORIES: dict[str, Callable[[Settings, ModelCatalog], Backend]] = {
    "foundry-local": _foundry_local,
}


def load_catalog(settings: Settings) -> ModelCatalog:
    """The catalog from `MODELS_FILE` (or the default), with per-provider env overrides applied."""
    catalog = ModelCatalog.load(settings.models_file)
    return catalog.with_overrides({"foundry-local": settings.foundry_model})


def build_backends(settings: Settings, catalog: ModelCatalog) -> dict[str, Backend]:
    """One backend per provider the catalog uses and the settings enable."""
    providers = dict.fromkeys(spec.provider for spec in catalog)
    if not settings.foundry_enabled:
        providers.pop("foundry-local", None)
    return {name: BACKEND_FACTORIES[name](settings, catalog) for name in providers if name in BACKEND_FACTORIES}
