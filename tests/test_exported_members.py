"""Each package's public API is its `__init__`, and only that (as httpx's test_exported_members.py checks).

Per package: it opens with a docstring saying what it owns; `__all__` names exactly the
public names its `__init__` binds (submodules aside), each the package's own; and the app's
code (app.py, settings.py, scripts/ and the other packages; not tests, benchmarks or
notebooks, which study internals) imports the package itself, never one of its modules.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["answering", "chat", "embedding", "gateway", "knowledge", "operations", "persistence", "router", "signin", "webgpu_demo_server"]
_NOT_APP_CODE = ("tests/", "bench/", "notebooks/")


def public_members(package: ModuleType) -> set[str]:
    """The public names `package/__init__.py` binds, submodules aside."""
    return {name for name, value in vars(package).items()
            if not name.startswith("_") and not isinstance(value, ModuleType)}


def foreign_members(package: ModuleType) -> list[str]:
    """Exported classes and functions defined outside the package (re-exports of another package's API)."""
    return [f"{name} from {value.__module__}" for name in package.__all__
            if (inspect.isclass(value := getattr(package, name)) or inspect.isfunction(value))
            and value.__module__.split(".")[0] != package.__name__]


def imports_past_the_api(package: str) -> list[str]:
    """Every `file:line` of the app's code outside `package` that imports one of its modules or private names."""
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    found = []
    for relative in listed.stdout.split():
        if relative.startswith((*_NOT_APP_CODE, f"{package}/")):
            continue
        for node in ast.walk(ast.parse((ROOT / relative).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_"))]
            else:
                continue
            if any(module.startswith(f"{package}.") for module in modules):
                found.append(f"{relative}:{node.lineno}")
    return found


@pytest.mark.parametrize("name", PACKAGES)
def test_exported_members(name):
    package = importlib.import_module(name)
    assert (package.__doc__ or "").strip(), f"{name}/__init__.py needs a docstring saying what the package owns"
    assert set(package.__all__) == public_members(package)
    assert len(package.__all__) == len(set(package.__all__))
    assert foreign_members(package) == []
    assert imports_past_the_api(name) == []
