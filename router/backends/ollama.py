"""Ollama through its OpenAI-compatible `/v1` routes: a local model server, no key."""

from __future__ import annotations

from router.backends.openai_compat import OpenAICompatibleBackend

DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"


class OllamaBackend(OpenAICompatibleBackend):
    """Models are listed from the server; health is that listing (cheap, no generation)."""

    def __init__(self, *, model: str, base_url: str = DEFAULT_BASE_URL, connect_timeout_s: float = 5.0,
                 read_timeout_s: float = 30.0, name: str = "ollama") -> None:
        super().__init__(
            name=name, kind="local", model=model, base_url=base_url or DEFAULT_BASE_URL, key_required=False,
            connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s,
        )

    def _where(self) -> str:
        return "Ollama (is `ollama serve` running? check OLLAMA_BASE_URL)"

    def _offers(self, names: list[str]) -> bool:
        """Ollama lists "llama3.2:latest" for a model pulled as "llama3.2"."""
        return self.model in names or f"{self.model}:latest" in names

    def _model_missing_reason(self) -> str:
        return f"the model '{self.model}' is not pulled; run `ollama pull {self.model}`"
