"""A baseline for pages served through the gateway: the gateway's own nginx (same process, same worker, same main
configuration) serving files from a folder on a loopback port of its own, with nothing behind it. What a page costs
beyond this is the web client's and the APIs' work, not nginx's or the loopback's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deploy.local.gateway import Gateway


@dataclass(frozen=True)
class StaticSite:
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def server_block(self) -> str:
        # Answers as the gateway's pages are answered (no cache revalidation, no compression): only the work differs.
        return f"""
server {{
  listen 127.0.0.1:{self.port};
  server_name _;
  access_log off;
  root {self.root};
  etag off;
  if_modified_since off;
  location / {{ try_files $uri =404; }}
}}
"""


class GatewayWithStaticSite(Gateway):
    """The gateway, its configuration extended by one server block: `static_site`."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        upstreams: dict[str, str],
        web_origin: str,
        static_site: StaticSite,
        api_rate: str = "50r/s",
        api_burst: int = 200,
    ) -> None:
        super().__init__(data_dir, port, upstreams, web_origin, api_rate, api_burst)
        self.static_site = static_site

    def _write_config(self) -> Path:
        # Gateway writes the site (filiera.conf, included in nginx.conf's http block) just before nginx checks and
        # starts with it; the extra server joins that same block.
        main = super()._write_config()
        self.static_site.root.mkdir(parents=True, exist_ok=True)
        site = self.data_dir / "filiera.conf"
        site.write_text(site.read_text() + self.static_site.server_block())
        return main
