"""The web client's settings, from WEB_ variables: where the gateway is, where the site is seen, the cookie key."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# For development and tests only: anyone can read it here, so anyone could forge sessions with it. Production sets
# WEB_COOKIE_KEY to a Fernet key of its own, e.g. from cryptography.fernet.Fernet.generate_key().
DEVELOPMENT_COOKIE_KEY = "ZmlsaWVyYS13ZWItZGV2ZWxvcG1lbnQtb25seS0wMDA="


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_", extra="ignore")

    # The gateway the web client calls for everything (its APIs live under /api/ there).
    gateway_url: str = "http://127.0.0.1:8080"
    # Where people see the site (links in calendar entries, the public calendar's address).
    public_url: str = "http://127.0.0.1:8080"
    cookie_key: SecretStr = SecretStr(DEVELOPMENT_COOKIE_KEY)
    # A session lasts a working day at most, like the members service's refresh tokens.
    session_hours: int = 10
    gateway_timeout_seconds: float = 15.0
    log_level: str = "INFO"
