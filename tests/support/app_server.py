"""Start the real app (`python -m scripts.serve`, as `make run` does) on a free 127.0.0.1 port for a test, and stop it.

Each server gets its own DATA_DIR; the prepared embedded model is shared through a
symlink so no test pays the conversion twice.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.ports import free_port
from tests.support.processes import dies_with_the_test, stop_process, wait_until_ready

REPO = Path(__file__).resolve().parents[2]
#: The password users of the shared `app_server` fixture (alice is the admin).
TEST_USERS = {"alice": "alice-pw-1", "bob": "bob-pw-2"}


def chat_users(users: dict[str, str]) -> str:
    """`CHAT_USERS` for a name -> password mapping."""
    return ",".join(f"{user}:{password}" for user, password in users.items())


class AppServer:
    """A running Hybrid Chat process. Use as a context manager."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, auth_secret: str | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Instances given one secret accept each other's tokens, as several instances in production do.
        self.auth_secret = auth_secret or secrets.token_urlsafe(48)
        self.log_path = data_dir / "server.log"
        self._env = env or {}
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> AppServer:
        from router.embedded_model import prepare_embedded_model
        from settings import get_settings

        models = prepare_embedded_model(get_settings().models_dir).parent
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "models").exists():
            (self.data_dir / "models").symlink_to(models, target_is_directory=True)
        env = {
            **os.environ,
            "DATA_DIR": str(self.data_dir),
            "CHAINLIT_AUTH_SECRET": self.auth_secret,
            "CHAINLIT_URL": self.url,
            "PYTHONUNBUFFERED": "1",
            **self._env,
        }
        self._log = open(self.log_path, "w")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "scripts.serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=dies_with_the_test(),
        )
        try:
            wait_until_ready(self._process, self._answers, what="the app", timeout=180, log=self.log, interval=0.5)
        except BaseException:  # `with` calls no __exit__ when __enter__ fails: the process must not outlive the test
            self.__exit__(None, None, None)
            raise
        return self

    @property
    def pid(self) -> int:
        """The app's process id (memory benchmarks read its /proc entries)."""
        return self._process.pid

    def _answers(self) -> bool:
        try:
            return httpx.get(self.url + "/project/settings", timeout=2).status_code in (200, 401)
        except httpx.HTTPError:
            return False

    def wait_for_local_model(self, timeout_s: float = 180) -> None:
        """The embedded model loads after start-up (the fake cloud is up at once); /readyz says when it can answer."""
        deadline = time.monotonic() + timeout_s
        last = ""
        while time.monotonic() < deadline:
            try:
                response = httpx.get(self.url + "/readyz", timeout=10)
                if response.status_code == 200 and response.json()["backends"]["foundry-local"]["available"]:
                    return
                last = response.text
            except httpx.HTTPError as exc:  # a busy machine may be slow to answer while the model loads
                last = repr(exc)
            time.sleep(1)
        raise AssertionError(f"not ready after {timeout_s:.0f} s: {last}\n{self.log()}")

    def kill(self) -> None:
        """End the process at once, as a crash or a lost machine would (no shutdown, no goodbyes)."""
        self._process.kill()
        self._process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __exit__(self, *exc) -> None:
        if self._process is not None:
            stop_process(self._process)
        self._log.close()
