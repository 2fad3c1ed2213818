"""The webhook watchdog: Webex disables a webhook whose deliveries keep failing (an outage of
the bot, a proxy, a certificate), and then the bot hears nothing. Every few minutes the timer
thread lists this instance's webhooks and sets any that Webex disabled active again, with the
webhook secret (so it goes on being signed), logs it, counts it and tells the staff.

When Webex keeps disabling a webhook (the cause is not gone), the watchdog backs off: the wait
before its next attempt for that webhook doubles, up to MAX_WAIT. The staff hear of such a
streak once; only when the webhook then stays active for STABLE and is disabled anew are they
told again.

Every process may run it: the streak's row (storage/streaks.py) lets one process make each
attempt and tell the staff once. A process without the webhook secret does not run it (a `worker`
need not have the secret), unless serving without one was chosen with `--no-webhook-secret`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot import hooks, spaces
from bot.context import RuntimeView
from bot.webex import Unauthorized, WebexFailure
from storage import streaks

log = logging.getLogger(__name__)

# The longest wait between two attempts for one webhook (or the check interval, when longer).
MAX_WAIT = timedelta(hours=1)
# How long a webhook stays active before a new disabling counts as a new streak.
STABLE = timedelta(hours=1)


class WebhookWatch:
    """Checks this instance's webhooks every `every`; `tick()` is called by the timer thread."""

    def __init__(self, runtime: RuntimeView, *, every: timedelta) -> None:
        self.runtime = runtime
        self.every = every
        self.next_at: datetime | None = None
        settings = runtime.settings
        self.secret = settings.webex_webhook_secret
        self.enabled = every > timedelta(0) and bool(self.secret or settings.webhook_secret_waived)
        if every > timedelta(0) and not self.enabled:
            log.info(
                "webhook watchdog off in this process: without WEBEX_WEBHOOK_SECRET it could not set the secret again"
            )

    def tick(self) -> int:
        """Check when the interval has passed; returns how many webhooks were set active."""
        if not self.enabled:
            return 0
        now = self.runtime.clock.now()
        if self.next_at is not None and now < self.next_at:
            return 0
        self.next_at = now + self.every
        return self.check()

    def check(self) -> int:
        """List this instance's webhooks and set its disabled ones active, as the back-off allows;
        Webex failures wait for the next check."""
        runtime = self.runtime
        webex, metrics, settings = runtime.webex, runtime.metrics, runtime.settings
        now = runtime.clock.now()
        if not runtime.access.usable(now, webex):
            metrics.webhook_checks.labels(outcome="unauthorized").inc()
            return 0
        try:
            listed = webex.list_webhooks()
        except Unauthorized as exc:
            runtime.access.lost(now, str(exc))
            metrics.webhook_checks.labels(outcome="unauthorized").inc()
            return 0
        except WebexFailure as exc:
            log.warning("webhook check: could not list the webhooks (%s); trying again in %s", exc, self.every)
            metrics.webhook_checks.labels(outcome="unreachable").inc()
            return 0
        target = hooks.target(settings.public_url) if settings.public_url else None
        with runtime.db.scope() as session:
            in_streak = streaks.all_streaks(session)
        revived = 0
        for hook in hooks.own(listed, instance=settings.bot_instance, target_url=target):
            if hook.get("status") != "active":
                revived += self._revive(hook, now)
            elif hook["id"] in in_streak:
                if in_streak[hook["id"]].told_at is None:
                    # Set active by an attempt whose answer was lost (a timeout that took effect): tell now.
                    self._tell_staff(hook, now)
                self._seen_active(hook, now)
        metrics.webhook_checks.labels(outcome="ok").inc()
        return revived

    def _seen_active(self, hook: dict[str, Any], now: datetime) -> None:
        with self.runtime.db.scope() as session:
            if streaks.seen_active(session, hook_id=hook["id"], now=now, stable=STABLE):
                log.info(
                    "webhook check: %s (%s) stayed active for %s; a new disabling will be told again",
                    hook["id"],
                    hook.get("name"),
                    STABLE,
                )

    def _revive(self, hook: dict[str, Any], now: datetime) -> bool:
        """Set a disabled webhook active, if it is this process's turn; True when it was."""
        with self.runtime.db.scope() as session:
            attempt = streaks.take_attempt(
                session, hook_id=hook["id"], now=now, first_wait=self.every, max_wait=MAX_WAIT
            )
        if attempt is None:
            log.info(
                "webhook check: %s (%s) is %s; backing off before the next attempt",
                hook["id"],
                hook.get("name"),
                hook.get("status"),
            )
            return False
        try:
            self.runtime.webex.activate_webhook(hook, secret=self.secret)
        except WebexFailure as exc:
            log.error(
                "webhook check: %s (%s) is %s and could not be set active: %s",
                hook.get("id"),
                hook.get("name"),
                hook.get("status"),
                exc,
            )
            self.runtime.metrics.webhook_checks.labels(outcome="activation_failed").inc()
            return False
        log.warning(
            "webhook check: %s (%s → %s) was %s; set active again (attempt %d of this streak)",
            hook.get("id"),
            hook.get("resource"),
            hook.get("targetUrl"),
            hook.get("status"),
            attempt,
        )
        self.runtime.metrics.webhooks_reactivated.inc()
        self._tell_staff(hook, now)
        return True

    def _tell_staff(self, hook: dict[str, Any], now: datetime) -> None:
        """Tell the staff of the streak, the first time a webhook in it was set active again."""
        runtime = self.runtime
        with runtime.db.scope() as session:
            if not streaks.mark_told(session, hook_id=hook["id"], now=now):
                return
            spaces.tell_staff(
                session,
                now=now,
                admins=runtime.settings.bot_admins,
                purpose="webhook-check",
                urgent=True,
                key="watchdog.reactivated",
                resource=f"{hook.get('resource')}/{hook.get('event')}",
                cap=_minutes(max(MAX_WAIT, self.every)),
                stable=_minutes(STABLE),
            )
        runtime.wake_outbox()


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)
