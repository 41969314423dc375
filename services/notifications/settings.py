"""Settings of the notifications service: environment variables prefixed NOTIFICATIONS_ (see README)."""

from pydantic import Field

from shared.settings import ServiceSettings, service_config


class NotificationsSettings(ServiceSettings):
    model_config = service_config("NOTIFICATIONS_")

    database_url: str = "sqlite+aiosqlite:///.filiera/notifications.db"
    # Outgoing mail. The local runner points these at a mail catcher; production at the network's relay.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    # Mail goes out over this many SMTP connections at once (a fan-out to thousands of people).
    smtp_connections: int = 4
    mail_from: str = "Filiera — Rete calzaturiera di Capannori <notifiche@filiera.example>"
    # Where people reach the platform: links in messages and the one-click unsubscribe address.
    public_url: str = "http://127.0.0.1:8004"
    web_url: str = "http://127.0.0.1:8080"
    # Signs unsubscribe links; must be set (and kept) in production, or old links stop working.
    unsubscribe_secret: str = "change-me-in-production-unsubscribe-links-secret"
    # How often due emails and webhook deliveries are looked for (a commit also wakes the sender).
    dispatch_interval_seconds: float = 1.0
    # Digests: the hour (Europe/Rome) daily digests go out, and the weekday (0 = Monday) of weekly ones.
    digest_hour: int = 7
    digest_weekday: int = 0
    digest_check_interval_seconds: float = 60.0
    # Webhooks: at most this many deliveries in flight, each given this long to answer.
    webhook_concurrency: int = 16
    webhook_timeout_seconds: float = 10.0
    # Hosts allowed although they resolve to private or loopback addresses, and over plain http
    # (a receiver on this machine in the local runner and in tests). Empty in production.
    webhook_allowed_hosts: list[str] = Field(default_factory=list)
    # After a secret is rotated, the old one keeps signing too for this long, so receivers can switch over.
    webhook_secret_overlap_hours: float = 24.0
    # The in-app stream looks for new messages this often.
    inbox_stream_poll_seconds: float = 0.5
