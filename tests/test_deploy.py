"""The Docker image and compose files are consistent with the app (Docker itself does not run here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from settings import Settings

REPO = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())


APPS = ("app1", "app2")
#: What the app replicas share through volumes (users' files); the rest of DATA_DIR is each one's own.
SHARED_FOLDERS = ("/data/files", "/data/knowledge-files", "/data/router")


def _mounts(service: dict) -> dict[str, str]:
    """Target path -> volume name."""
    return {target: volume for volume, target in (v.split(":", 1) for v in service["volumes"])}


def test_compose_runs_two_app_replicas_with_postgres_chroma_and_ollama_each_health_checked():
    services = _compose()["services"]
    assert {*APPS, "postgres", "chroma", "ollama"} <= set(services)
    for name in (*APPS, "postgres", "chroma", "ollama"):
        assert services[name]["healthcheck"]["test"], name
    for app in APPS:
        assert "/readyz" in " ".join(services[app]["healthcheck"]["test"])
        waits_for = services[app]["depends_on"]
        assert all(waits_for[name]["condition"] == "service_healthy" for name in ("postgres", "chroma", "ollama"))


def test_every_stateful_service_keeps_its_data_in_a_named_volume():
    compose = _compose()
    declared = set(compose["volumes"])
    for name, path in (("app1", "/data"), ("app2", "/data"), ("postgres", "/var/lib/postgresql/data"),
                       ("chroma", "/chroma"), ("ollama", "/root/.ollama")):
        assert _mounts(compose["services"][name]).get(path) in declared, name


def test_the_app_replicas_keep_their_own_data_folder_and_share_the_users_files():
    services = _compose()["services"]
    first, second = (_mounts(services[app]) for app in APPS)
    assert first["/data"] != second["/data"], "each replica prepares its own model in its own DATA_DIR"
    for folder in SHARED_FOLDERS:
        assert first[folder] == second[folder], folder
    # A new named volume takes its owner from the image's folder: the image creates them for its user.
    dockerfile = (REPO / "Dockerfile").read_text()
    assert all(re.search(rf"mkdir -p .*{folder}\b", dockerfile) for folder in SHARED_FOLDERS)


def test_the_apps_environment_names_settings_the_app_really_reads():
    services = _compose()["services"]
    environment = services["app1"]["environment"]
    assert services["app2"]["environment"] == environment, "one auth secret, database and vector store for both"
    aliases = {field.alias for field in Settings.model_fields.values()} | {"CHAINLIT_URL"}
    assert set(environment) <= aliases, set(environment) - aliases
    assert environment["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert environment["CHROMA_HOST"] == "chroma" and environment["OLLAMA_BASE_URL"] == "http://ollama:11434/v1"
    chroma_command = services["chroma"]["entrypoint"]
    assert chroma_command[:2] == ["chroma", "run"] and environment["CHROMA_PORT"] == chroma_command[-1]


def test_only_the_load_balancer_is_published_and_it_runs_the_tested_haproxy_config():
    services = _compose()["services"]
    balancer = services["lb"]
    assert balancer["image"].startswith("haproxy:")
    assert "./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in balancer["volumes"]
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["lb"], "users reach the apps through the balancer only"
    assert balancer["ports"][0].endswith(":" + balancer["environment"]["LISTEN"].rsplit(":", 1)[1])
    assert set(balancer["depends_on"]) == set(APPS)
    # The config's servers are the two replicas, at the port the app listens on in its image.
    assert [balancer["environment"][name.upper()] for name in APPS] == [f"{app}:8000" for app in APPS]
    config = (REPO / "deploy" / "haproxy.cfg").read_text()
    for line in ('bind "${LISTEN}"', 'server app1 "${APP1}" cookie app1', 'server app2 "${APP2}" cookie app2',
                 "option httpchk GET /readyz", "cookie HYBRID_SERVER insert", "option redispatch"):
        assert line in config, line
    assert '--port "${PORT:-8000}"' in (REPO / "docker" / "entrypoint.sh").read_text()


def test_the_dockerfile_installs_the_lock_without_deps_and_checks_health():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert re.search(r"pip install --no-deps .*-r requirements\.txt", dockerfile)
    assert "download.pytorch.org/whl/cpu" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    entrypoint = (REPO / "docker" / "entrypoint.sh").read_text()
    assert "python -m router.embedded_model" in entrypoint and "python -m scripts.serve" in entrypoint
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "data", ".git"} <= set(ignored), "the image must not carry local data or the virtualenv"
