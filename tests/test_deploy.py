"""The Docker image and compose files are consistent with the app (Docker itself does not run here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from settings import Settings

REPO = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())


def test_compose_runs_the_app_with_postgres_chroma_and_ollama_each_health_checked():
    services = _compose()["services"]
    assert {"app", "postgres", "chroma", "ollama"} <= set(services)
    for name in ("app", "postgres", "chroma", "ollama"):
        assert services[name]["healthcheck"]["test"], name
    assert "/readyz" in " ".join(services["app"]["healthcheck"]["test"])
    waits_for = services["app"]["depends_on"]
    assert all(waits_for[name]["condition"] == "service_healthy" for name in ("postgres", "chroma", "ollama"))


def test_every_stateful_service_keeps_its_data_in_a_named_volume():
    compose = _compose()
    declared = set(compose["volumes"])
    for name, path in (("app", "/data"), ("postgres", "/var/lib/postgresql/data"), ("chroma", "/chroma"),
                       ("ollama", "/root/.ollama")):
        mounts = {target: volume for volume, target in (v.split(":", 1) for v in compose["services"][name]["volumes"])}
        assert mounts.get(path) in declared, name


def test_the_apps_environment_names_settings_the_app_really_reads():
    environment = _compose()["services"]["app"]["environment"]
    aliases = {field.alias for field in Settings.model_fields.values()} | {"CHAINLIT_URL"}
    assert set(environment) <= aliases, set(environment) - aliases
    assert environment["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert environment["CHROMA_HOST"] == "chroma" and environment["OLLAMA_BASE_URL"] == "http://ollama:11434/v1"
    chroma_command = _compose()["services"]["chroma"]["entrypoint"]
    assert chroma_command[:2] == ["chroma", "run"] and environment["CHROMA_PORT"] == chroma_command[-1]


def test_the_dockerfile_installs_the_lock_without_deps_and_checks_health():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert re.search(r"pip install --no-deps .*-r requirements\.txt", dockerfile)
    assert "download.pytorch.org/whl/cpu" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    entrypoint = (REPO / "docker" / "entrypoint.sh").read_text()
    assert "python -m router.embedded_model" in entrypoint and "chainlit run app.py" in entrypoint
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "data", ".git"} <= set(ignored), "the image must not carry local data or the virtualenv"
