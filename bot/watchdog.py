"""The webhook watchdog: Webex disables a webhook whose deliveries keep failing (an outage of
the bot, a proxy, a certificate), and then the bot hears nothing. Every few minutes the timer
thread lists this instance's webhooks and sets any that Webex disabled active again, with the
webhook secret (so it goes on being signed), logs it, counts it and tells the staff space once.

Every process may run it; a second process finds the webhook active again and does nothing. A
process without the webhook secret does not run it (a `worker` need not have the secret), unless
serving without one was chosen with `--no-webhook-secret`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot import hooks, i18n
from bot.outbox import enqueue
from bot.webex import WebexFailure
from storage import directory

log = logging.getLogger(__name__)


class WebhookWatch:
    """Checks this instance's webhooks every `every`; `tick()` is called by the timer thread."""

    def __init__(self, runtime, *, every: timedelta) -> None:
        self.runtime = runtime
        self.every = every
        self.next_at: datetime | None = None
        settings = runtime.settings
        self.secret = settings.webex_webhook_secret
        self.enabled = every > timedelta(0) and bool(self.secret or settings.webhook_secret_waived)
        if every > timedelta(0) and not self.enabled:
            log.info("webhook watchdog off in this process: without WEBEX_WEBHOOK_SECRET it could not set the secret again")

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
        """List this instance's webhooks and set its disabled ones active; Webex failures wait for the next check."""
        webex, metrics, settings = self.runtime.webex, self.runtime.metrics, self.runtime.settings
        try:
            listed = webex.list_webhooks()
        except WebexFailure as exc:
            log.warning("webhook check: could not list the webhooks (%s); trying again in %s", exc, self.every)
            metrics.webhook_checks.labels(outcome="unreachable").inc()
            return 0
        target = hooks.target(settings.public_url) if settings.public_url else None
        revived = 0
        for hook in hooks.own(listed, instance=settings.bot_instance, target_url=target):
            if hook.get("status") == "active":
                continue
            try:
                webex.activate_webhook(hook, secret=self.secret)
            except WebexFailure as exc:
                log.error("webhook check: %s (%s) is %s and could not be set active: %s", hook.get("id"), hook.get("name"),
                          hook.get("status"), exc)
                metrics.webhook_checks.labels(outcome="activation_failed").inc()
                continue
            revived += 1
            log.warning("webhook check: %s (%s → %s) was %s; set active again", hook.get("id"), hook.get("resource"),
                        hook.get("targetUrl"), hook.get("status"))
            metrics.webhooks_reactivated.inc()
            self._tell_staff(hook)
        metrics.webhook_checks.labels(outcome="ok").inc()
        return revived

    def _tell_staff(self, hook: dict) -> None:
        now = self.runtime.clock.now()
        with self.runtime.db.scope() as session:
            spaces = directory.staff_spaces(session)
            if not spaces:
                return
            space = spaces[0]
            lang = space.language or i18n.DEFAULT_LANGUAGE
            enqueue(session, now=now, room_id=space.room_id, purpose="webhook-check", urgent=True,
                    markdown=i18n.t("watchdog.reactivated", lang, resource=f"{hook.get('resource')}/{hook.get('event')}"))
        self.runtime.wake_outbox()
