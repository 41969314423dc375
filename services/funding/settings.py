"""Settings of the funding service: environment variables prefixed FUNDING_ (see README)."""

from shared.settings import ServiceSettings, service_config


class FundingSettings(ServiceSettings):
    model_config = service_config("FUNDING_")

    database_url: str = "sqlite+aiosqlite:///.filiera/funding.db"
    # EU Funding & Tenders Portal search API, https://api.tech.ec.europa.eu/search-api/prod/rest/search in
    # production; empty (the default, so that nothing here calls out unasked) turns the source off.
    eu_search_url: str = ""
    eu_search_text: str = "***"
    eu_poll_minutes: float = 360.0
    # incentivi.gov.it open-data export (CSV, or its JSON form); empty (the default) turns the source off.
    incentivi_url: str = ""
    incentivi_poll_minutes: float = 1440.0
    # A source that could not be read is tried again this long after.
    source_retry_minutes: float = 15.0
    # How often sources are checked for being due, reminders are looked for and calls' statuses follow their dates.
    scheduler_interval_seconds: float = 300.0
    source_timeout_seconds: float = 60.0
