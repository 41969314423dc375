"""The API gateway for `./filiera run` and the tests: nginx from Debian's packages, configured from
deploy/gateway/ exactly as the official image in docker-compose.yml is (same template, other values)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from deploy.local.processes import ROOT, wait_ready

GATEWAY_DIR = ROOT / "deploy" / "gateway"
# Where / goes when the platform runs without its web client (the APIs' own benchmarks): nothing listens there, so
# pages answer 502 and the APIs are unaffected.
NO_WEB_CLIENT = "127.0.0.1:9"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise RuntimeError("nginx is not installed: apt-get install nginx (./filiera does it for you)")
    return found


class Gateway:
    def __init__(
        self,
        data_dir: Path,
        port: int,
        upstreams: dict[str, str],
        web_origin: str,
        api_rate: str = "50r/s",
        api_burst: int = 200,
        web_client_address: str = "127.0.0.1",
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.access_log = data_dir / "access.log"
        self._values = {
            "FILIERA_GATEWAY_LISTEN": f"127.0.0.1:{port}",
            "FILIERA_GATEWAY_ACCESS_LOG": str(self.access_log),
            "FILIERA_GATEWAY_DIR": str(GATEWAY_DIR),
            "FILIERA_GATEWAY_DOCS": str(GATEWAY_DIR / "docs.html"),
            "FILIERA_WEB_ORIGIN": web_origin,
            "FILIERA_WEB_CLIENT_ADDRESS": web_client_address,
            "FILIERA_API_RATE": api_rate,
            "FILIERA_API_BURST": str(api_burst),
            "FILIERA_WEB_UPSTREAM": NO_WEB_CLIENT,
            **{f"FILIERA_{name.upper()}_UPSTREAM": address for name, address in upstreams.items()},
        }
        self._process: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Only ${FILIERA_...} is ours, as in the nginx image's envsubst; nginx's own $variables stay.
        site = re.sub(
            r"\$\{(FILIERA_[A-Z_]+)\}",
            lambda found: self._values[found.group(1)],
            (GATEWAY_DIR / "filiera.conf.template").read_text(),
        )
        (self.data_dir / "filiera.conf").write_text(site)
        main = self.data_dir / "nginx.conf"
        # Everything nginx writes stays in data_dir, so it runs without root and beside a system nginx.
        main.write_text(f"""
worker_processes 1;
pid {self.data_dir / "nginx.pid"};
error_log {self.data_dir / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
  include /etc/nginx/mime.types;
  client_body_temp_path {self.data_dir / "client_body"};
  proxy_temp_path {self.data_dir / "proxy"};
  fastcgi_temp_path {self.data_dir / "fastcgi"};
  uwsgi_temp_path {self.data_dir / "uwsgi"};
  scgi_temp_path {self.data_dir / "scgi"};
  include {self.data_dir / "filiera.conf"};
}}
""")
        return main

    def start(self, timeout: float = 20) -> None:
        config = self._write_config()
        binary = nginx_binary()
        subprocess.run([binary, "-t", "-q", "-c", str(config), "-p", str(self.data_dir)], check=True)
        log = open(self.data_dir / "nginx.out", "ab")  # noqa: SIM115 - lives as long as the process
        self._process = subprocess.Popen(
            [binary, "-c", str(config), "-p", str(self.data_dir), "-g", "daemon off;"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_ready(self.url, self._process, timeout, path="/docs")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()  # nginx's fast shutdown
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
