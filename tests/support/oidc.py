"""A real OpenID Connect provider (npm oidc-provider, tests/oidc/provider.mjs) on a free 127.0.0.1 port.

Its login form accepts any login id and signs in an account whose verified e-mail is that id.
The npm packages are installed from the committed package-lock.json on first use.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import httpx

from tests.support.ports import free_port
from tests.support.processes import stop_process, wait_until_ready

OIDC_DIR = Path(__file__).resolve().parent.parent / "oidc"


def ensure_installed() -> None:
    """`npm ci` once: the provider's packages are not committed, only their lock file."""
    if (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: the OAuth tests need Node 20 and npm")
    subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=OIDC_DIR, check=True,
                   capture_output=True, timeout=300)


class OidcProvider:
    """The running provider, with one client registered for `redirect_uri`. Use as a context manager."""

    def __init__(self, redirect_uri: str, log_path: Path) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id = "hybrid-chat"
        self.client_secret = secrets.token_urlsafe(24)
        self.redirect_uri = redirect_uri
        self.log_path = log_path
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> OidcProvider:
        ensure_installed()
        env = {
            **os.environ, "OIDC_PORT": str(self.port), "OIDC_CLIENT_ID": self.client_id,
            "OIDC_CLIENT_SECRET": self.client_secret, "OIDC_REDIRECT_URI": self.redirect_uri,
            "OIDC_COOKIE_KEY": secrets.token_urlsafe(24),
        }
        self._log = open(self.log_path, "w")
        self._process = subprocess.Popen(["node", "provider.mjs"], cwd=OIDC_DIR, env=env, stdout=self._log,
                                         stderr=subprocess.STDOUT)
        self.discovery = wait_until_ready(self._process, self._discovery, what="the OIDC provider", timeout=30,
                                          log=self.log_path.read_text)
        return self

    def _discovery(self) -> dict | None:
        try:
            return httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).json()
        except httpx.HTTPError:
            return None

    def app_env(self) -> dict[str, str]:
        """What Chainlit's generic OAuth provider needs to use this provider."""
        return {
            "OAUTH_GENERIC_CLIENT_ID": self.client_id,
            "OAUTH_GENERIC_CLIENT_SECRET": self.client_secret,
            "OAUTH_GENERIC_AUTH_URL": self.discovery["authorization_endpoint"],
            "OAUTH_GENERIC_TOKEN_URL": self.discovery["token_endpoint"],
            "OAUTH_GENERIC_USER_INFO_URL": self.discovery["userinfo_endpoint"],
            "OAUTH_GENERIC_SCOPES": "openid email profile",
            "OAUTH_GENERIC_USER_IDENTIFIER": "email",
        }

    def __exit__(self, *exc) -> None:
        if self._process is not None:
            stop_process(self._process, timeout=10)
        self._log.close()
