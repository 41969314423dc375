"""A single-node Apache Kafka broker (KRaft, broker + controller in one process) run from Maven jars.

No Docker is needed: `deploy/kafka/pom.xml` names the broker's jars, Maven fetches them once into
`deploy/kafka/target/libs` (and ~/.m2), and this module formats the storage and starts the JVM.
The broker can be stopped and started again on the same ports and data, which is how the tests prove
that nothing is lost while Kafka is down.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from deploy.local.ports import free_port

log = logging.getLogger(__name__)

KAFKA_DIR = Path(__file__).resolve().parents[1] / "kafka"
LIBS_DIR = KAFKA_DIR / "target" / "libs"


def ensure_kafka_jars() -> Path:
    """Fetch the broker's jars with Maven unless they are already there."""
    if not any(LIBS_DIR.glob("kafka_2.13-*.jar")):
        if shutil.which("mvn") is None:
            raise RuntimeError("Maven (mvn) is needed to fetch Kafka's jars: apt-get install maven")
        log.info("fetching Apache Kafka jars from Maven Central (once)")
        subprocess.run(
            ["mvn", "-q", "-B", "-f", str(KAFKA_DIR / "pom.xml"), "dependency:copy-dependencies"],
            check=True,
        )
    return LIBS_DIR


def _random_cluster_id() -> str:
    """A base64url UUID, as Kafka's own `random-uuid` makes; never one starting with "-", which the storage
    tool's command line would read as an option (one start in 64 failed that way)."""
    while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"):
        pass
    return cluster_id


class KafkaBroker:
    """One KRaft node on loopback with its data in `data_dir`."""

    def __init__(self, data_dir: Path, heap: str = "512m", port: int | None = None) -> None:
        self.data_dir = data_dir
        self.heap = heap
        self.port = port or free_port()
        self.controller_port = free_port() if port is None else port + 1
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _write_config(self) -> Path:
        config = self.data_dir / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.data_dir / 'logs'}",
                    "num.partitions=3",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=3",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    # The default 3 s delay slows every consumer group's first join in tests.
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=true",
                ]
            )
            + "\n"
        )
        return config

    def _java(self, *args: str) -> list[str]:
        classpath = f"{ensure_kafka_jars()}/*"
        return [
            "java",
            f"-Xmx{self.heap}",
            f"-Xms{self.heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}",
            "-cp",
            classpath,
            *args,
        ]

    def _format_storage(self, config: Path) -> None:
        if (self.data_dir / "logs" / "meta.properties").exists():
            return
        subprocess.run(
            self._java(
                "kafka.tools.StorageTool", "format", "--standalone", "-t", _random_cluster_id(), "-c", str(config)
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self, timeout: float = 90.0) -> str:
        """Start the broker (formatting its storage the first time) and wait until it serves requests."""
        self._launch()
        asyncio.run(self._wait_ready(timeout))
        return self.bootstrap_servers

    async def start_async(self, timeout: float = 90.0) -> str:
        """`start`, from inside a running event loop."""
        self._launch()
        await self._wait_ready(timeout)
        return self.bootstrap_servers

    def _launch(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        self._format_storage(config)
        log_file = open(self.data_dir / "broker.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            self._java("kafka.Kafka", str(config)), stdout=log_file, stderr=subprocess.STDOUT
        )

    async def _wait_ready(self, timeout: float) -> None:
        # aiokafka logs every refused connection while the broker boots; that is expected here.
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
        try:
            await self._poll_admin(timeout)
        finally:
            logging.getLogger("aiokafka").setLevel(logging.NOTSET)

    async def _poll_admin(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Kafka exited with {self.process.returncode}; see {self.data_dir / 'broker.log'}")
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=3000)
            try:
                await admin.start()
                await admin.describe_cluster()
                return
            except Exception as error:  # the broker is still starting
                last_error = error
                await asyncio.sleep(0.2)
            finally:
                await admin.close()
        raise TimeoutError(f"Kafka not ready after {timeout}s: {last_error}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
