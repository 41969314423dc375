"""Staff tasks from a shell, against the same database the service uses (MEMBERS_DATABASE_URL).

    python -m services.members.cli create-admin --email segreteria@example.com

The password is asked for (or read from MEMBERS_FIRST_ADMIN_PASSWORD). The `members.person.joined` event waits
in the outbox until the running service's relay publishes it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from pydantic import ValidationError

from services.members import commands
from services.members.app import MIGRATIONS
from services.members.settings import MembersSettings
from shared.db import create_engine, session_factory
from shared.migrations import upgrade_to_head
from shared.unit_of_work import UnitOfWork


async def create_admin(settings: MembersSettings, email: str, password: str) -> bool:
    """True when the admin was created, False when the network already has one."""
    upgrade_to_head(MIGRATIONS, settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        # Nothing to wake here: the service's relay finds the row on its next poll.
        async with UnitOfWork(session_factory(engine), "/filiera/members", lambda: None) as uow:
            return await commands.create_first_admin(uow, email, password) is not None
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.members.cli")
    tasks = parser.add_subparsers(dest="task", required=True)
    admin = tasks.add_parser("create-admin", help="create the network's first admin, if there is none yet")
    admin.add_argument("--email", required=True)
    arguments = parser.parse_args(argv)

    settings = MembersSettings()
    password = settings.first_admin_password or getpass.getpass("password for the new admin: ")
    try:
        created = asyncio.run(create_admin(settings, arguments.email, password))
    except ValidationError as error:
        print(f"refused: {error.errors()[0]['msg']}", file=sys.stderr)
        return 2
    if not created:
        print("the network already has an admin: nothing done (add staff through POST /people/staff)")
        return 1
    print(f"created network admin {arguments.email}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
