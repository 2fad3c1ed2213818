"""Time as a dependency: the real clock, and a settable one for tests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class Clock(Protocol):
    """Anything that tells the current instant as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)


class SettableClock:
    """A clock that only moves when told to; thread-safe."""

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self._now = to_utc(start)

    def now(self) -> datetime:
        """The instant the clock was set to."""
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        """Jump to `instant` (aware)."""
        with self._lock:
            self._now = to_utc(instant)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by an elapsed duration and return the new instant."""
        with self._lock:
            self._now = self._now + delta
            return self._now


def to_utc(instant: datetime) -> datetime:
    """Normalise an aware datetime to UTC; naive input is a programming error."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: pass an aware datetime")
    return instant.astimezone(UTC)


def from_db(value: datetime | None) -> datetime | None:
    """Datetimes come back naive from SQLite; they are stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
