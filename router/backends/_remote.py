"""What every backend behind a provider's SDK shares: a key that may be missing, and health from the model list.

The Gemini and OpenAI-compatible backends differ only in the SDK call that lists models,
how a model name is matched, and the wording of their reasons; the rest lives here once.
"""

from __future__ import annotations

from abc import abstractmethod

from router.backends._health import HealthCache
from router.backends.base import Backend
from router.errors import BackendError, BackendUnavailable
from router.types import Health


class RemoteBackend(Backend):
    """A backend reached through an SDK client: unavailable (with the reason) while its key is missing."""

    model: str

    def __init__(self) -> None:
        self._health = HealthCache(self._probe)

    # --- what each provider supplies ------------------------------------------------

    @abstractmethod
    def _missing_key(self) -> bool:
        """True when a key is required and not set."""

    @abstractmethod
    def _missing_key_reason(self) -> str:
        """Why the backend is unavailable without a key, naming the variable to set."""

    @abstractmethod
    async def _fetch_model_names(self) -> list[str]:
        """The SDK call that lists the models; its exceptions are translated by the caller."""

    @abstractmethod
    def _translate(self, exc: Exception) -> BackendError:
        """An SDK or transport exception as a router error whose message is safe to show."""

    def _offers(self, names: list[str]) -> bool:
        return self.model in names

    def _model_missing_reason(self) -> str:
        return f"the server does not offer the model '{self.model}'"

    # --- shared behaviour ----------------------------------------------------------

    async def health(self) -> Health:
        if self._missing_key():
            return Health(False, reason=self._missing_key_reason())
        return await self._health.get()

    async def _probe(self) -> Health:
        """List the models: cheap, free, and proves the address and the key."""
        try:
            names = await self._list_models()
        except BackendError as exc:
            return Health(False, reason=exc.message)
        if self.model and names and not self._offers(names):
            return Health(False, reason=self._model_missing_reason(), models=tuple(names))
        return Health(True, models=tuple(names))

    async def models(self) -> list[str]:
        if self._missing_key():
            return []
        try:
            return await self._list_models()
        except BackendError:
            return []

    async def _list_models(self) -> list[str]:
        try:
            return await self._fetch_model_names()
        except Exception as exc:
            failure = self._translate(exc)
        # Raised outside the handler so the SDK error (which may quote the request) is not its context.
        raise failure

    def _require_key(self) -> None:
        if self._missing_key():
            raise BackendUnavailable(self._missing_key_reason(), backend=self.name)
