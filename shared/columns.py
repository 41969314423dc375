"""Column types every service's tables use, so PostgreSQL and SQLite store and return the same values."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Enum
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware on PostgreSQL; SQLite keeps no zone, so values read back are marked UTC again."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return _in_utc(value) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def timestamp(**field_kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **field_kwargs)


def _in_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: use datetime.now(UTC)")
    return moment.astimezone(UTC)


class _EnumList(TypeDecorator[list[Any]]):
    """A JSON list whose items are read back as members of `enum`, as the model declares them."""

    impl = JSON
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_result_value(self, value: list[str] | None, dialect: Any) -> list[Any] | None:
        return [self.enum(item) for item in value] if value is not None else None


def json_list(enum: type[StrEnum] | None = None, **field_kwargs: Any) -> Any:
    """A list of strings (ATECO codes, markets...) or of `enum` members, stored as JSON on both databases."""
    column_type = _EnumList(enum) if enum is not None else JSON
    return Field(default_factory=list, sa_type=column_type, **field_kwargs)


class _DateTimeList(TypeDecorator[list[datetime]]):
    """Aware datetimes kept as a JSON list of ISO 8601 strings in UTC."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: list[datetime] | None, dialect: Any) -> list[str] | None:
        if value is None:
            return None
        return [_in_utc(moment).isoformat() for moment in value]

    def process_result_value(self, value: list[str] | None, dialect: Any) -> list[datetime] | None:
        return [datetime.fromisoformat(moment) for moment in value] if value is not None else None


def datetime_list(**field_kwargs: Any) -> Any:
    """A list of moments (deadlines...), stored as JSON on both databases."""
    return Field(default_factory=list, sa_type=_DateTimeList, **field_kwargs)


def enum_column(enum: type[StrEnum], length: int = 40, **field_kwargs: Any) -> Any:
    """An enum stored as its readable value ('applied'), as VARCHAR(length): no database enum types to migrate."""
    column_type = Enum(enum, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])
    return Field(sa_type=column_type, **field_kwargs)
