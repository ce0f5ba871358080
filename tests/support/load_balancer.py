"""HAProxy (Debian's `haproxy`) in front of app instances, running the repository's own
`deploy/haproxy.cfg` on a free 127.0.0.1 port, so the tests prove the file operators deploy."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.ports import free_port
from tests.support.processes import dies_with_the_test, stop_process, wait_until_ready

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "deploy" / "haproxy.cfg"
#: The cookie that pins a browser to an instance, and the header that names the instance that answered.
STICKY_COOKIE = "HYBRID_SERVER"
SERVED_BY = "x-hybrid-server"


class LoadBalancer:
    """A running HAProxy; `url` is its address, `servers` maps the config's server names to app URLs."""

    def __init__(self, url: str, servers: dict[str, str], log_path: Path) -> None:
        self.url, self.servers, self.log_path = url, servers, log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def up_servers(self) -> set[str]:
        """The servers whose /readyz check passes, as HAProxy sees them: a fresh client lands only on these."""
        seen: set[str] = set()
        for _ in range(2 * len(self.servers)):  # round robin: each healthy server once or more
            try:
                response = httpx.get(self.url + "/healthz", timeout=10)
            except httpx.HTTPError:
                continue
            if response.status_code == 200 and SERVED_BY in response.headers:
                seen.add(response.headers[SERVED_BY])
        return seen


def haproxy_binary() -> str | None:
    """Debian puts it in /usr/sbin, which a non-root PATH may lack."""
    return shutil.which("haproxy", path=f"{os.environ.get('PATH', '')}:/usr/sbin")


@contextmanager
def running_load_balancer(app_urls: list[str], workdir: Path, ready_timeout: float = 120) -> Iterator[LoadBalancer]:
    """HAProxy balancing over `app_urls` (two, as the config names app1 and app2), until every one
    of them passes its health check; stopped at the end, and killed if the test process dies."""
    if len(app_urls) != 2:
        raise ValueError("deploy/haproxy.cfg balances over exactly two instances (APP1, APP2)")
    binary = haproxy_binary()
    if binary is None:
        raise RuntimeError("HAProxy is not installed (apt-get install haproxy; make system-deps)")
    servers = {f"app{index}": url for index, url in enumerate(app_urls, start=1)}
    port = free_port()
    env = {**os.environ, "LISTEN": f"127.0.0.1:{port}",
           **{name.upper(): url.removeprefix("http://") for name, url in servers.items()}}
    checked = subprocess.run([binary, "-c", "-f", str(CONFIG)], env=env, capture_output=True, text=True, timeout=30)
    if checked.returncode != 0:
        raise RuntimeError(f"HAProxy refuses {CONFIG}:\n{checked.stdout}{checked.stderr}")
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "haproxy.log"
    with open(log_path, "wb") as log:
        # -db: stay in the foreground (no daemon), so the process is ours to stop.
        process = subprocess.Popen([binary, "-db", "-f", str(CONFIG)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                   preexec_fn=dies_with_the_test())
    balancer = LoadBalancer(f"http://127.0.0.1:{port}", servers, log_path)
    try:
        wait_until_ready(process, lambda: balancer.up_servers() == set(servers), what="haproxy",
                         timeout=ready_timeout, log=balancer.log, interval=1)
        yield balancer
    finally:
        stop_process(process, timeout=10)
