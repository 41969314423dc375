"""A throwaway PostgreSQL cluster from Debian's packages, on a free loopback port.

`initdb` refuses to run as root, so when we are root the cluster belongs to the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from deploy.local.ports import free_port


def postgres_bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (./filiera does it for you)")
    return Path(candidates[-1])


class PostgresCluster:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.bin = postgres_bin_dir()
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = list(args)
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            # The postgres user must be able to reach its data directory through our (root-owned) temp dir.
            self.data_dir.parent.chmod(0o755)
            shutil.chown(self.data_dir, "postgres", "postgres")
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-w",
            "-l",
            str(self.data_dir / "server.log"),
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self._run(
            str(self.bin / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-q",
            "-c",
            f'CREATE DATABASE "{name}"',
        )
        return self.url(name)
