"""What the sandbox does to requests besides answering them: Webex's rate limit, and failures a test asks for."""

from __future__ import annotations

import random
import threading
from datetime import datetime
from typing import Any


class RateLimit:
    """Webex-like rate limiting: a token bucket per (token, HTTP method, endpoint collection),
    refilled on the sandbox's clock; beyond it the request answers 429 with Retry-After.

    Webex publishes no figures (it answers 429 with a Retry-After, see NOTES.md); a burst of 50
    and 10 requests a second after it are this sandbox's choice, enough for a person and strict
    enough that a bot sending in bulk meets 429s.
    """

    PER_SECOND = 10.0
    BURST = 50

    def __init__(self, per_second: float | None = PER_SECOND, burst: int = BURST) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], tuple[float, datetime]] = {}  # key → (tokens, at)
        self.per_second: float | None = None
        self.burst = burst
        self.refused = 0
        self.allowed = 0
        self.configure(per_second=per_second, burst=burst)

    def configure(self, *, per_second: float | None, burst: int | None = None) -> None:
        """Refill `per_second` (None or 0: no limit) up to `burst` (default BURST); every bucket starts full."""
        if per_second is not None and per_second < 0 or burst is not None and burst < 1:
            raise ValueError("per_second must be >= 0 and burst >= 1")
        with self._lock:
            self.per_second = per_second or None
            self.burst = burst if burst is not None else self.BURST
            self._buckets.clear()

    def take(self, key: tuple[str, str, str], now: datetime) -> float:
        """0 when the call may go ahead, else the seconds to wait (Retry-After)."""
        per_second = self.per_second
        if not per_second:
            return 0.0
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            # A test's clock may be set back; time never refills a bucket backwards.
            elapsed = max(0.0, (now - at).total_seconds())
            tokens = min(float(self.burst), tokens + elapsed * per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                self.allowed += 1
                return 0.0
            self._buckets[key] = (tokens, now)
            self.refused += 1
            return (1 - tokens) / per_second


class Faults:
    """Canned failures for the next matching API requests (tests of retry logic)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[dict[str, Any]] = []

    def add(
        self,
        method: str,
        path: str,
        status: int,
        *,
        headers: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        times: int = 1,
        retry_after: int | None = None,
        after: bool = False,
    ) -> None:
        """The next `times` requests of `method` whose path starts with `path` get `status`.

        `retry_after` sets the Retry-After header (429, and 423 Locked, carry one). With `after`
        the request is carried out first and only its answer is replaced: a 502 or 504 on a POST
        whose message was created all the same.
        """
        headers = dict(headers or {})
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        with self._lock:
            for _ in range(times):
                self._queue.append(
                    {
                        "method": method.upper(),
                        "path": path,
                        "status": status,
                        "headers": headers,
                        "body": body,
                        "after": after,
                    }
                )

    def locked(self, method: str, path: str, *, retry_after: int, times: int = 1) -> None:
        """423 Locked with Retry-After for the next `times` matching requests, as Webex answers
        while a resource is briefly unavailable."""
        self.add(method, path, 423, retry_after=retry_after, times=times)

    def take(self, method: str, path: str) -> dict[str, Any] | None:
        """The first queued fault matching this request, removed from the queue."""
        with self._lock:
            for i, fault in enumerate(self._queue):
                if fault["method"] == method.upper() and path.startswith(fault["path"]):
                    return self._queue.pop(i)
        return None

    def chaos(self, rate: float, *, seed: int, timeout_s: float, slow_s: float = 0.3) -> None:
        """From now on, a share `rate` of API requests goes wrong, in equal parts: 429 with
        Retry-After 1, 500, a timeout (answered only after `timeout_s`, so the caller has given up
        though the request takes effect) and a slow answer (`slow_s`). Seeded, so a drill repeats."""
        with self._lock:
            self._chaos = (rate, random.Random(seed), timeout_s, slow_s)

    def roll(self) -> dict[str, Any] | None:
        """What chaos does to this request: None, a fault to answer, or a delay before handling it."""
        with self._lock:
            chaos = getattr(self, "_chaos", None)
            if chaos is None:
                return None
            rate, rng, timeout_s, slow_s = chaos
            if rng.random() >= rate:
                return None
            kind = rng.choice(("429", "500", "timeout", "slow"))
        if kind == "429":
            return {"status": 429, "headers": {"Retry-After": "1"}, "body": None}
        if kind == "500":
            return {"status": 500, "headers": {}, "body": None}
        return {"delay": timeout_s if kind == "timeout" else slow_s}
