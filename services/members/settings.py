"""Settings of the members service: environment variables prefixed MEMBERS_ (see README)."""

from datetime import timedelta

from services.members.domain import TokenLifetimes
from shared.settings import ServiceSettings, service_config


class MembersSettings(ServiceSettings):
    model_config = service_config("MEMBERS_")

    database_url: str = "sqlite+aiosqlite:///.filiera/members.db"
    access_token_minutes: int = 15
    # A working day: each use of a refresh token gives a new one for as long again (rotation).
    refresh_token_hours: int = 10
    invitation_days: int = 7
    password_reset_minutes: int = 60
    # Created at start-up when no network admin exists yet (or use `python -m services.members.cli create-admin`).
    first_admin_email: str | None = None
    first_admin_password: str | None = None
    # Wrong passwords in a row for one account from one client address before that pair is held back.
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    # How often overdue fees are looked for and announced (members.fee.overdue). Due dates are days, so a
    # minute is prompt enough; each run is one query when nothing is due.
    scheduler_interval_seconds: float = 60.0

    @property
    def token_lifetimes(self) -> TokenLifetimes:
        return TokenLifetimes(
            access=timedelta(minutes=self.access_token_minutes), refresh=timedelta(hours=self.refresh_token_hours)
        )

    @property
    def invitation_lifetime(self) -> timedelta:
        return timedelta(days=self.invitation_days)

    @property
    def password_reset_lifetime(self) -> timedelta:
        return timedelta(minutes=self.password_reset_minutes)

    @property
    def login_lockout(self) -> timedelta:
        return timedelta(minutes=self.login_lockout_minutes)
