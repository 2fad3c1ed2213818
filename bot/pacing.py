"""How fast and how often the bot tries again: the backoff of a failed attempt, the pace of bulk
messages and the pause every sender keeps after Webex's 429."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

MAX_BACKOFF = timedelta(minutes=5)
# Bulk messages a second per process, unless BOT_BULK_PER_SECOND says otherwise.
DEFAULT_BULK_PER_SECOND = 5.0


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s, … capped at MAX_BACKOFF."""
    return min(timedelta(seconds=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


class BulkPacer:
    """Bulk rows go out at most `per_second` a second (a token bucket holding one second's worth),
    below the rate Webex allows the token, so a broadcast leaves room for conversation and does
    not run into the 429s that would hold every space. One per process: senders share it."""

    def __init__(self, per_second: float) -> None:
        if not per_second > 0:
            raise ValueError("the bulk rate must be positive")
        self.per_second = per_second
        self.burst = max(1.0, per_second)
        self._tokens = self.burst
        self._at: datetime | None = None
        self._lock = threading.Lock()

    def reserve(self, now: datetime) -> bool:
        """Take the right to send one bulk row now; False when the pace does not allow one yet."""
        with self._lock:
            if self._at is not None and now > self._at:
                self._tokens = min(self.burst, self._tokens + (now - self._at).total_seconds() * self.per_second)
            if self._at is None or now > self._at:
                self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    def refund(self) -> None:
        """Give back a reservation the claim did not use."""
        with self._lock:
            self._tokens = min(self.burst, self._tokens + 1)


class RateGate:
    """Webex limits the bot's token, not a space: after a 429 every sender sharing the gate waits
    out the Retry-After, instead of each space finding the limit again with a request of its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: datetime | None = None

    def hold(self, until: datetime) -> None:
        """No sending before `until`."""
        with self._lock:
            if self._until is None or until > self._until:
                self._until = until

    def is_open(self, now: datetime) -> bool:
        """Whether sending may go on at `now`."""
        with self._lock:
            return self._until is None or now >= self._until
