"""Real infrastructure for every test that needs it: one Apache Kafka broker and one PostgreSQL cluster per test run.

Order of preference: KAFKA_BOOTSTRAP_SERVERS / FILIERA_TEST_POSTGRES_URL when set; testcontainers when a Docker
engine answers; otherwise local processes (Kafka from Maven jars, PostgreSQL from Debian's packages).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deploy.local.kafka import KafkaBroker
from deploy.local.postgres import PostgresCluster
from tests.support.infrastructure import KafkaReader, PostgresDatabases, create_database_at, docker_engine_available
from tests.support.tokens import serving_jwks

# A test that needs one of these runs on real infrastructure: it belongs to the integration tier. The unit tier
# (`./filiera test -m "not integration"`) is everything else, and runs alone in seconds.
INFRASTRUCTURE = {"kafka_bootstrap", "postgres", "database_url", "kafka_reader", "jwks_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INFRASTRUCTURE & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
    elif docker_engine_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield container.get_bootstrap_server()
    else:
        broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
        broker.start()
        yield broker.bootstrap_servers
        broker.stop()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresDatabases]:
    if url := os.environ.get("FILIERA_TEST_POSTGRES_URL"):
        yield PostgresDatabases(functools.partial(create_database_at, url))
    elif docker_engine_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="asyncpg") as container:
            yield PostgresDatabases(functools.partial(create_database_at, container.get_connection_url()))
    else:
        # Not under pytest's temp dir: that is private to root, and the cluster runs as the postgres user.
        parent = Path(tempfile.mkdtemp(prefix="filiera-pg-"))
        cluster = PostgresCluster(parent / "data")
        cluster.start()
        yield PostgresDatabases(cluster.create_database)
        cluster.stop()
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every service test runs on both databases the code supports."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    databases: PostgresDatabases = request.getfixturevalue("postgres")
    return databases.new_database()


@pytest.fixture
def kafka_reader(kafka_bootstrap: str) -> KafkaReader:
    return KafkaReader(kafka_bootstrap)


@pytest.fixture
def unique_topic() -> Callable[[str], str]:
    return lambda prefix: f"{prefix}.{uuid.uuid4().hex[:8]}"


@pytest.fixture
def jwks_url() -> Iterator[str]:
    """A JWKS for a service process to verify the tokens tests sign (tests.support.tokens), as it would members'."""
    with serving_jwks() as url:
        yield url
