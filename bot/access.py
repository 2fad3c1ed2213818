"""Whether Webex accepts the bot's token, as this process last saw it.

A 401 is not about one request: Webex refuses the token itself (revoked, rotated, expired), so
every call fails alike until someone restores it. Then the bot is in an outage: workers stop
claiming, so no event or message is marked failed and every one stays pending in its order;
one probe (GET /people/me) at a time checks the token, at growing intervals; one log line a
minute says how long it has lasted; a gauge says so to the monitoring. The endpoint goes on
accepting webhooks meanwhile, or Webex would disable them. When a probe succeeds, the workers
claim again and everything goes out in the usual order (P1 pages first).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from bot.metrics import Metrics
from bot.webex import Unauthorized, WebexClient, WebexFailure

log = logging.getLogger(__name__)

PROBE_FIRST = timedelta(seconds=1)
PROBE_MAX = timedelta(seconds=60)
LOG_EVERY = timedelta(minutes=1)


class WebexAccess:
    """The token's state in this process: "ok", or "unauthorized" since an instant."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics or Metrics()
        self._lock = threading.Lock()
        self.since: datetime | None = None
        self._delay = PROBE_FIRST
        self._next_probe: datetime | None = None
        self._logged_at: datetime | None = None

    @property
    def state(self) -> str:
        """ "ok" or "unauthorized" (what /healthz names)."""
        return "ok" if self.since is None else "unauthorized"

    def lost(self, now: datetime, reason: str = "401") -> None:
        """Webex answered 401: hold every call until a probe shows the token works again."""
        with self._lock:
            if self.since is not None:
                return  # another thread's call saw it too
            self.since = now
            self._delay = PROBE_FIRST
            self._next_probe = now + self._delay
            self._logged_at = now
            self.metrics.webex_unauthorized.set(1)
        log.error(
            "Webex refuses the bot's token (%s): holding every incoming event and outgoing message until it is "
            "accepted again",
            reason,
        )

    def _still_refused(self, now: datetime) -> None:
        """A probe got 401 again: probe less often, up to once a minute."""
        with self._lock:
            self._delay = min(self._delay * 2, PROBE_MAX)
            self._next_probe = now + self._delay

    def usable(self, now: datetime, webex: WebexClient) -> bool:
        """Whether calls may go out now: the token works, or a probe due now shows it works again.

        Of several threads asking at once, one probes; the others hear "not yet".
        """
        if self.since is None:
            return True
        with self._lock:
            if self.since is None:
                return True
            self._remind(now)
            if self._next_probe is not None and now < self._next_probe:
                return False
            self._next_probe = now + self._delay  # this thread probes; the others wait for it
        try:
            webex.check_token()
        except Unauthorized:
            self._still_refused(now)
            return False
        except WebexFailure as exc:
            log.warning("Webex token check failed (%s); trying again later", exc)
            return False
        self.restored(now)
        return True

    def restored(self, now: datetime) -> None:
        """The token works again."""
        with self._lock:
            if self.since is None:
                return
            lasted = now - self.since
            self.since = None
            self._next_probe = None
            self.metrics.webex_unauthorized.set(0)
        log.warning("Webex accepts the bot's token again after %s; delivering what waited", _duration(lasted))

    def _remind(self, now: datetime) -> None:
        if self.since is not None and (self._logged_at is None or now - self._logged_at >= LOG_EVERY):
            self._logged_at = now
            log.error(
                "Webex has refused the bot's token for %s; events and messages are held, none is lost",
                _duration(now - self.since),
            )


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
