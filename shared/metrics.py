"""Prometheus metrics shared by every service (each process serves them at /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

OUTBOX_BACKLOG = Gauge("filiera_outbox_backlog", "Outbox rows not yet published to Kafka")
OUTBOX_PUBLISHED = Counter("filiera_outbox_published_total", "Events published from the outbox", ["topic"])
OUTBOX_RELAY_LATENCY = Histogram(
    "filiera_outbox_relay_seconds",
    "Time from an event's commit to Kafka's acknowledgement",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60),
)
CONSUMER_LAG = Gauge(
    "filiera_consumer_lag",
    "Records a consumer group has still to read (committed offset to the topic's end)",
    ["consumer", "topic"],
)
EVENTS_CONSUMED = Counter(
    "filiera_events_consumed_total", "Events handled by a consumer", ["consumer", "topic", "outcome"]
)
HTTP_REQUESTS = Histogram("filiera_http_request_seconds", "HTTP request duration", ["method", "route", "status"])
