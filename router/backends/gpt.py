"""GPT through the `openai` client; `OPENAI_BASE_URL` points it at any OpenAI-compatible server."""

from __future__ import annotations

from pydantic import SecretStr

from router.backends.openai_compat import OpenAICompatibleBackend


class GPTBackend(OpenAICompatibleBackend):
    """A cloud backend: unavailable (with the reason) until `OPENAI_API_KEY` is set."""

    def __init__(self, *, model: str, api_key: SecretStr, base_url: str | None = None,
                 connect_timeout_s: float = 5.0, read_timeout_s: float = 30.0, name: str = "openai") -> None:
        super().__init__(
            name=name, kind="cloud", model=model, base_url=base_url, api_key=api_key, key_env="OPENAI_API_KEY",
            connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s,
        )
