"""The bot's own webhooks at Webex: what it subscribes to, how they are named, which are its own.

Several environments may share one bot token (production and acceptance, say), and Webex lists
every webhook of the token to each of them. Each webhook's name therefore carries the instance
that registered it (`BOT_INSTANCE`): "servicedesk <instance> <resource> <event>". Registering,
listing, deleting and the watchdog touch only webhooks of their own instance.

Webhooks of earlier releases were named "servicedesk <resource>", without an instance. Such a
webhook is taken as this instance's only when it points at this instance's own address, so no
instance can take over another's.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.webex import WebexClient

log = logging.getLogger(__name__)

PREFIX = "servicedesk"
PATH = "/webhooks/webex"
# (resource, event) the bot subscribes to. Membership events are filtered on the bot itself: it
# needs to hear that it joined or left a space, not every member of every space come and go.
SUBSCRIPTIONS = (
    ("messages", "created"),
    ("attachmentActions", "created"),
    ("memberships", "created"),
    ("memberships", "deleted"),
)
FILTERED_ON_BOT = frozenset({"memberships"})
LEGACY_NAMES = frozenset(f"{PREFIX} {resource}" for resource in ("messages", "attachmentActions", "memberships"))


def name(instance: str, resource: str, event: str) -> str:
    """The name of one of this instance's webhooks."""
    return f"{PREFIX} {instance} {resource} {event}"


def target(public_url: str) -> str:
    """Where Webex delivers to, for the bot reachable at `public_url`."""
    return public_url.rstrip("/") + PATH


def is_own(hook: dict[str, Any], *, instance: str, target_url: str | None = None) -> bool:
    """Whether `hook` is this instance's: named for it, or an unnamed-instance one of an earlier
    release that points at `target_url` (this instance's address, when known)."""
    hook_name = str(hook.get("name", ""))
    if hook_name.startswith(f"{PREFIX} {instance} "):
        return True
    return target_url is not None and hook_name in LEGACY_NAMES and hook.get("targetUrl") == target_url


def own(hooks: list[dict[str, Any]], *, instance: str, target_url: str | None = None) -> list[dict[str, Any]]:
    """The webhooks in `hooks` that are this instance's."""
    return [h for h in hooks if is_own(h, instance=instance, target_url=target_url)]


def wanted_filter(resource: str, bot_person_id: str) -> str | None:
    """The webhook filter of a subscription: membership events only about the bot itself."""
    return f"personId={bot_person_id}" if resource in FILTERED_ON_BOT else None


def register(webex: WebexClient, *, public_url: str, secret: str, instance: str) -> list[dict[str, Any]]:
    """Make sure exactly this instance's webhooks point at `public_url`, signed with `secret`; idempotent.

    A webhook that only needs a new name, address or secret is updated in place (Webex cannot
    show the secret, so it is always set). One whose filter is wrong is replaced: the new one is
    created before the old is deleted, so no event falls between them; one delivered by both is
    stored once (the inbox is unique on the event).
    """
    if not secret:
        raise ValueError("webhooks are registered with a secret")
    url = target(public_url)
    bot_id = webex.identity().person_id
    mine = own(webex.list_webhooks(), instance=instance, target_url=url)
    kept: list[dict[str, Any]] = []
    for resource, event in SUBSCRIPTIONS:
        hook_name = name(instance, resource, event)
        wanted = wanted_filter(resource, bot_id)
        matches = [h for h in mine if (h.get("resource"), h.get("event")) == (resource, event)]
        reusable = next((h for h in matches if (h.get("filter") or None) == wanted), None)
        if reusable is not None:
            current = webex.update_webhook(reusable["id"], name=hook_name, target_url=url, secret=secret)
        else:
            current = webex.create_webhook(
                name=hook_name, target_url=url, resource=resource, event=event, secret=secret, filter=wanted
            )
        for stale in matches:
            if stale["id"] != current["id"]:
                webex.delete_webhook(stale["id"])
        kept.append(current)
    # A legacy memberships webhook has no event in its name; any of this instance's left over is gone too.
    subscribed = {(resource, event) for resource, event in SUBSCRIPTIONS}
    for extra in mine:
        if (extra.get("resource"), extra.get("event")) not in subscribed:
            webex.delete_webhook(extra["id"])
    log.info("webhooks of instance %s registered at %s", instance, url)
    return kept
