"""`python -m scripts.serve`: Chainlit's start-up on uvloop, without the CLI's `nest_asyncio`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.app_server import REPO

# Runs the launcher with uvicorn.run replaced by a recorder: what it would serve, and how.
_RECORD_START = """
import asyncio, json, os, sys
import uvicorn
sys.path.insert(0, {repo!r})
seen = {{}}
def run(app, **options):
    seen.update(options, cwd=os.getcwd(), app=type(app).__name__, nested="nest_asyncio" in sys.modules,
                c_tasks=asyncio.Task.__module__ == "_asyncio")
uvicorn.run = run
from scripts.serve import main
main(["--host", "127.0.0.1", "--port", "8123"])
print(json.dumps(seen))
"""


def test_the_launcher_starts_the_app_on_uvloop_from_any_folder_without_nesting(tmp_path):
    env = {"CHAINLIT_AUTH_SECRET": "x" * 48, "DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", _RECORD_START.format(repo=str(REPO))], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["app"] == "FastAPI" and seen["cwd"] == str(REPO)  # Chainlit's folder, whatever the caller's
    assert (seen["host"], seen["port"], seen["loop"], seen["http"]) == ("127.0.0.1", 8123, "uvloop", "httptools")
    assert seen["nested"] is False and seen["c_tasks"] is True


def test_the_running_app_serves_on_uvloop(app_server):
    maps = Path(f"/proc/{app_server.pid}/maps").read_text()
    assert "uvloop/loop." in maps
