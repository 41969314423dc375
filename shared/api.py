"""What every service's routes use: the unit of work per request, the service's settings and clock, pagination,
the documented error answers."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from shared.clock import Clock
from shared.settings import ServiceSettings
from shared.unit_of_work import UnitOfWork

T = TypeVar("T")
SettingsT = TypeVar("SettingsT", bound=ServiceSettings)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad request"},
    401: {"description": "Missing, expired or forged token"},
    403: {"description": "Not allowed"},
    404: {"description": "Not found"},
    409: {"description": "Conflicts with the current state"},
    422: {"description": "Invalid input"},
}


async def unit_of_work(request: Request) -> UnitOfWork:
    # Dependencies are async even when they do not await: FastAPI runs a plain `def` in its thread pool, a
    # thread hop on every request.
    uow: UnitOfWork = request.app.state.runtime.unit_of_work()
    return uow


async def service_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.runtime.settings
    return settings


async def clock(request: Request) -> Clock:
    service_clock: Clock = request.app.state.runtime.clock
    return service_clock


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]
# `config: SettingsDep[EventsSettings]`: the running service's own settings class.
SettingsDep = Annotated[SettingsT, Depends(service_settings)]
ClockDep = Annotated[Clock, Depends(clock)]
PageNumber = Annotated[int, Query(ge=1, le=10_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
