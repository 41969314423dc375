"""Settings of the events service: environment variables prefixed EVENTS_ (see README)."""

from shared.settings import ServiceSettings, service_config


class EventsSettings(ServiceSettings):
    model_config = service_config("EVENTS_")

    database_url: str = "sqlite+aiosqlite:///.filiera/events.db"
    # A freed seat is held this long for the first on the waitlist before it passes to the next.
    offer_hours: float = 24.0
    # `events.event.starting_soon` goes out this long before the start.
    reminder_hours_before: float = 24.0
    # How often the scheduler looks for lapsed offers and events to remind.
    scheduler_interval_seconds: float = 30.0
    # Where people reach this service, for links in calendar entries.
    public_url: str = "http://127.0.0.1:8002"
