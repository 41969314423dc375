from sqlmodel import SQLModel

from services.funding import models  # noqa: F401  (registers the tables)
from shared import consumer, outbox  # noqa: F401  (the inbox and outbox tables)
from shared.migrations import run_alembic_env

run_alembic_env(SQLModel.metadata)
