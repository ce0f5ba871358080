"""Building the backends from settings: every provider built, none crashing, env overrides applied."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from router.core import Router
from router.registry import build_backends, load_catalog
from settings import PROJECT_ROOT, Settings
from tests.support.secret import SECRET


def settings(tmp_path: Path, **env) -> Settings:
    return Settings(DATA_DIR=tmp_path, FOUNDRY_ENABLED=False, **env)


async def test_missing_keys_and_servers_make_providers_unavailable_not_crash(tmp_path):
    router = Router.from_settings(settings(tmp_path, OLLAMA_BASE_URL="http://127.0.0.1:9/v1", CONNECT_TIMEOUT_S=1))

    health = await router.health()

    assert set(router.backends) == {"ollama", "gemini", "openai"}
    assert not any(state.available for state in health.values())
    assert "GEMINI_API_KEY" in health["gemini"].reason and "OPENAI_API_KEY" in health["openai"].reason
    assert "cannot reach Ollama" in health["ollama"].reason
    assert health["foundry-local"].reason == "this provider is not enabled"
    assert {name: b.kind for name, b in router.backends.items()} == {"ollama": "local", "gemini": "cloud", "openai": "cloud"}
    await router.aclose()


async def test_configured_providers_become_available(tmp_path, openai_server, gemini_server, ollama_server):
    router = Router.from_settings(settings(
        tmp_path, OPENAI_API_KEY=SECRET, OPENAI_BASE_URL=openai_server.base_url, OPENAI_MODEL="gpt-test",
        GEMINI_API_KEY=SECRET, GEMINI_BASE_URL=gemini_server.base_url, GEMINI_MODEL="gemini-test",
        OLLAMA_BASE_URL=ollama_server.base_url, OLLAMA_MODEL="llama-test:1b",
    ))

    health = await router.health()

    assert all(health[name].available for name in ("ollama", "gemini", "openai")), health
    assert router.resilience.timeouts.first_token_s == 30.0  # from the settings' defaults
    await router.aclose()


def test_model_names_are_overridden_per_provider_from_the_environment(tmp_path):
    catalog = load_catalog(settings(tmp_path, OPENAI_MODEL="gpt-5-nano", GEMINI_MODEL="gemini-2.5-pro", OLLAMA_MODEL="qwen3:4b"))
    models = {spec.provider: spec.model for spec in catalog}
    assert models["openai"] == "gpt-5-nano" and models["gemini"] == "gemini-2.5-pro" and models["ollama"] == "qwen3:4b"
    assert next(s for s in catalog if s.provider == "openai").input_price == 0.40  # prices stay from the file


def test_providers_can_be_switched_off(tmp_path):
    s = settings(tmp_path, OLLAMA_ENABLED=False)
    assert "ollama" not in build_backends(s, load_catalog(s))


def test_google_api_key_is_accepted_for_gemini(tmp_path):
    assert settings(tmp_path, GOOGLE_API_KEY=SECRET).gemini_key.get_secret_value() == SECRET
    assert SECRET not in repr(settings(tmp_path, GOOGLE_API_KEY=SECRET, OPENAI_API_KEY=SECRET))


async def test_cli_health_lists_every_backend_and_never_prints_a_key(tmp_path, openai_server):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "FOUNDRY_ENABLED": "false", "OLLAMA_BASE_URL": "http://127.0.0.1:9/v1",
           "OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": openai_server.base_url, "OPENAI_MODEL": "gpt-test",
           "GEMINI_API_KEY": "", "GOOGLE_API_KEY": ""}

    async def cli(*args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "router", "health", *args, cwd=PROJECT_ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        output, errors = await process.communicate()
        assert SECRET not in errors.decode()
        return process.returncode, output.decode()

    code, output = await cli("--json")
    rows = {row["backend"]: row for row in json.loads(output)}
    assert code == 0
    assert rows["openai"]["available"] and rows["openai"]["kind"] == "cloud"
    assert not rows["gemini"]["available"] and "GEMINI_API_KEY" in rows["gemini"]["reason"]
    assert rows["foundry-local"]["reason"] == "this provider is not enabled"

    code, text = await cli()
    assert "openai" in text and "unavailable: GEMINI_API_KEY" in text
    assert SECRET not in output + text
