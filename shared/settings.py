"""Settings every service reads from its environment, each under its own prefix (MEMBERS_, EVENTS_, ...)."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Subclass per service with `model_config = service_config("MEMBERS_")`; nothing else reads os.environ."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.filiera/service.db"
    # PostgreSQL connections a process may hold: the pool, and as many again at a peak. Four services at 20 each
    # stay under PostgreSQL's default max_connections of 100, with room for a replica, migrations and psql.
    database_pool_size: int = 10
    database_max_overflow: int = 10
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    log_level: str = "INFO"
    # Where tokens come from: the members service signs them, every service verifies them.
    jwt_issuer: str = "filiera-members"
    jwt_audience: str = "filiera"
    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    # The relay is woken right after each commit; the poll only catches what other replicas wrote.
    outbox_poll_interval_seconds: float = 1.0
    consumer_max_attempts: int = 3
    # Most facts a consumer handles in one transaction (fewer when fewer are waiting: it never waits to fill one).
    consumer_batch_size: int = 100
    # How often consumer lag is read from Kafka for /metrics.
    consumer_lag_interval_seconds: float = 15.0


def service_config(env_prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=env_prefix, extra="ignore")
