"""The Webex seam: the only module that imports webexpythonsdk.

Everything above it sees plain dicts and four kinds of failure: RateLimited (429, and 423
Locked: retry after the time Webex gave), Transient (5xx, timeouts, connection errors: back off
and retry), Unauthorized (401: the token itself is refused, so every call will be until it is
restored; nothing is the request's fault) and Permanent (other 4xx: retrying will not help).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import requests
from webexpythonsdk import ApiError, RateLimitError, WebexAPI

log = logging.getLogger(__name__)

# Short single-request timeout: the outbox retries, so a hung request only costs a retry.
REQUEST_TIMEOUT_S = 20


class WebexFailure(Exception):
    """A Webex call did not succeed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(WebexFailure):
    """429 (the token's limit) or 423 (one resource locked): try again after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float, status: int = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class Transient(WebexFailure):
    """5xx, timeout or connection error: worth retrying with backoff.

    `may_have_arrived`: the request may have taken effect at Webex although no answer said so
    (a read timeout; a 502 or 504 from a gateway in front of Webex, behind which the message
    may already exist), so a retried create first looks for it where it can.
    """

    def __init__(self, message: str, *, status: int | None = None, may_have_arrived: bool = False) -> None:
        super().__init__(message, status=status)
        self.may_have_arrived = may_have_arrived


class Unauthorized(WebexFailure):
    """401: Webex refuses the bot's token (revoked, expired, rotated); every call fails alike."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=401)


class Permanent(WebexFailure):
    """A 4xx other than 429: the request itself is wrong or no longer possible."""


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is on Webex."""

    person_id: str
    uuid: str
    display_name: str
    emails: tuple[str, ...]


def person_uuid(person_id: str) -> str:
    """The UUID inside a Webex person id (base64 of ciscospark://us/PEOPLE/<uuid>); a value that
    is no such id (a bare UUID already) comes back as it is."""
    padded = person_id + "=" * (-len(person_id) % 4)
    try:
        decoded = base64.b64decode(
            padded, altchars=b"-_" if "-" in person_id or "_" in person_id else None, validate=True
        ).decode()
    except (binascii.Error, UnicodeDecodeError):
        return person_id
    if not decoded.startswith("ciscospark://"):
        return person_id
    return decoded.rsplit("/", 1)[-1]


# 502 and 504 come from a gateway that gave up waiting for Webex, which may have done the work.
_GATEWAY = (502, 504)
# Retry-After Webex gives with 423 Locked, when it gives none (the SDK's default for 429 too).
LOCKED_RETRY_S = 15.0


def _retry_after(response: requests.Response | None, default: float) -> float:
    """The Retry-After of an answer, in seconds (at least 1); `default` when absent or malformed."""
    raw = response.headers.get("Retry-After") if response is not None else None
    try:
        seconds = float(raw) if raw is not None else default
    except ValueError:
        seconds = default
    return max(1.0, seconds) if seconds == seconds else default  # NaN is malformed too


def _translate(exc: Exception, what: str, *, creates: bool = False) -> WebexFailure:
    """The failure kind of an SDK or HTTP exception; `creates`: the call was a POST that creates."""
    if isinstance(exc, RateLimitError):
        return RateLimited(f"{what}: rate limited", retry_after=float(exc.retry_after))
    if isinstance(exc, ApiError):
        status = exc.status_code
        reason = f"{what}: {status} {exc.message or exc.status}"
        if status == 401:
            return Unauthorized(reason)
        if status == 423:
            return RateLimited(reason, retry_after=_retry_after(exc.response, LOCKED_RETRY_S), status=423)
        if status is not None and status >= 500:
            return Transient(reason, status=status, may_have_arrived=creates and status in _GATEWAY)
        return Permanent(reason, status=status)
    if isinstance(exc, requests.RequestException):
        # A read timeout means the request reached Webex and may have taken effect; a refused
        # or timed-out connection means it did not.
        arrived = creates and isinstance(exc, requests.Timeout) and not isinstance(exc, requests.ConnectTimeout)
        return Transient(f"{what}: {type(exc).__name__}: {exc}", may_have_arrived=arrived)
    raise exc


def settle_environment(session: requests.Session, base_url: str) -> None:
    """Take proxy and CA bundle settings from the environment once, for the Webex host.

    With trust_env on, requests looks them up again (and searches for a ~/.netrc) on every
    request, a few percent of the bot's CPU; the bot talks to one host, so the answer does not
    change between requests. HTTP(S)_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE
    keep working. netrc is left out on purpose: the bearer token is the bot's credential, and a
    netrc entry for the host would replace it with basic auth.
    """
    for scheme, proxy in requests.utils.get_environ_proxies(base_url).items():
        session.proxies.setdefault(scheme, proxy)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False


def _data(entity: Any) -> dict[str, Any]:
    """The JSON object an SDK entity was read from."""
    data: dict[str, Any] = entity._json_data
    return data


class WebexClient:
    """Thin wrapper over WebexAPI returning JSON dicts and raising WebexFailure kinds."""

    def __init__(self, *, access_token: str, base_url: str, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.api = WebexAPI(
            access_token=access_token,
            base_url=base_url,
            wait_on_rate_limit=False,
            single_request_timeout=timeout_s,
        )
        # The SDK keeps its requests.Session private; it is the one every call goes through.
        settle_environment(self.api._session._req_session, base_url)
        self._identity: BotIdentity | None = None
        self._room_types: dict[str, str] = {}

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, creates: bool = False, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ApiError, requests.RequestException) as exc:
            raise _translate(exc, what, creates=creates) from exc

    def identity(self) -> BotIdentity:
        """The bot's own person (fetched once: it never changes while running)."""
        if self._identity is None:
            me = self._call("people/me", self.api.people.me)._json_data
            self._identity = BotIdentity(
                person_id=me["id"],
                uuid=person_uuid(me["id"]),
                display_name=me.get("displayName", ""),
                emails=tuple(e.lower() for e in me.get("emails", [])),
            )
        return self._identity

    def check_token(self) -> None:
        """GET /people/me: raises Unauthorized while Webex refuses the token."""
        self._call("people/me", self.api.people.me)

    def find_person(self, email: str) -> dict[str, Any] | None:
        """GET /people?email=: the person with a Webex account at `email`, or None."""
        found = self._call("find person", lambda: list(islice(self.api.people.list(email=email), 1)))
        return found[0]._json_data if found else None

    def get_message(self, message_id: str) -> dict[str, Any]:
        """GET /messages/{id}."""
        return _data(self._call("get message", self.api.messages.get, message_id))

    def get_attachment_action(self, action_id: str) -> dict[str, Any]:
        """GET /attachment/actions/{id}."""
        return _data(self._call("get attachment action", self.api.attachment_actions.get, action_id))

    def get_membership(self, membership_id: str) -> dict[str, Any]:
        """GET /memberships/{id}."""
        return _data(self._call("get membership", self.api.memberships.get, membership_id))

    def get_room(self, room_id: str) -> dict[str, Any]:
        """GET /rooms/{id}, asked afresh: 404 (Permanent) once the bot is no longer in the space."""
        room = _data(self._call("get room", self.api.rooms.get, room_id))
        self._room_types[room_id] = room["type"]
        return room

    def get_person(self, person_id: str) -> dict[str, Any]:
        """GET /people/{id}."""
        return _data(self._call("get person", self.api.people.get, person_id))

    def create_message(
        self,
        *,
        room_id: str | None = None,
        to_person_email: str | None = None,
        text: str | None = None,
        markdown: str | None = None,
        parent_id: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
        files: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        """POST /messages; returns the created message. `files`: one {"name", "text"} to upload
        (multipart, as Webex takes a local file)."""
        kwargs: dict[str, Any] = {"text": text, "markdown": markdown, "parentId": parent_id, "attachments": attachments}
        if room_id:
            kwargs["roomId"] = room_id
        else:
            kwargs["toPersonEmail"] = to_person_email
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        if not files:
            return _data(self._call("create message", self.api.messages.create, creates=True, **kwargs))
        [upload] = files
        # The SDK uploads a file it finds on disk, named after it and typed by its extension.
        with tempfile.TemporaryDirectory(prefix="servicedesk-") as folder:
            path = Path(folder) / Path(upload["name"]).name
            path.write_text(upload["text"], encoding="utf-8")
            return _data(
                self._call("create message", self.api.messages.create, creates=True, files=[str(path)], **kwargs)
            )

    def update_message(
        self, message_id: str, *, room_id: str, text: str | None, markdown: str | None
    ) -> dict[str, Any]:
        """PUT /messages/{id} (only messages without cards or files, at most 10 times)."""
        kwargs: dict[str, Any] = {k: v for k, v in {"text": text, "markdown": markdown}.items() if v is not None}
        return _data(
            self._call("update message", self.api.messages.update, messageId=message_id, roomId=room_id, **kwargs)
        )

    def delete_message(self, message_id: str) -> None:
        """DELETE /messages/{id}."""
        self._call("delete message", self.api.messages.delete, message_id)

    def room_type(self, room_id: str) -> str:
        """ "direct" or "group" (asked once per space: it never changes)."""
        kind = self._room_types.get(room_id)
        if kind is None:
            kind = self._call("get room", self.api.rooms.get, room_id)._json_data["type"]
            self._room_types[room_id] = kind
        return kind

    def list_direct_messages(self, email: str, *, max_items: int = 50) -> list[dict[str, Any]]:
        """The newest messages of the bot's 1:1 space with `email` (newest first, one page): found by
        the person, so also when the bot does not know the space's id (GET /messages/direct)."""
        messages: list[dict[str, Any]] = self._call(
            "list direct messages",
            lambda: [m._json_data for m in islice(self.api.messages.list_direct(personEmail=email), max_items)],
        )
        return messages

    def list_recent_messages(self, room_id: str, *, max_items: int = 50) -> list[dict[str, Any]]:
        """The newest messages of a 1:1 space (newest first), one page: Webex lets a bot list a
        group space only for the messages that mention it."""
        page = self.api.messages.list(roomId=room_id, max=max_items)
        return [m._json_data for m in self._call("list messages", lambda: list(islice(page, max_items)))]

    # Webhook management for `run_bot.py webhooks ...`

    def list_webhooks(self) -> list[dict[str, Any]]:
        """All webhooks owned by the bot."""
        return [w._json_data for w in self._call("list webhooks", lambda: list(self.api.webhooks.list()))]

    def create_webhook(
        self, *, name: str, target_url: str, resource: str, event: str, secret: str | None, filter: str | None = None
    ) -> dict[str, Any]:
        """POST /webhooks."""
        kwargs: dict[str, Any] = {"name": name, "targetUrl": target_url, "resource": resource, "event": event}
        if secret:
            kwargs["secret"] = secret
        if filter:
            kwargs["filter"] = filter
        return _data(self._call("create webhook", self.api.webhooks.create, **kwargs))

    def update_webhook(self, webhook_id: str, *, name: str, target_url: str, secret: str | None) -> dict[str, Any]:
        """PUT /webhooks/{id}: name, address and secret, and status active (Webex requires name and targetUrl)."""
        kwargs: dict[str, Any] = {"name": name, "targetUrl": target_url, "status": "active"}
        if secret:
            kwargs["secret"] = secret
        return _data(self._call("update webhook", self.api.webhooks.update, webhook_id, **kwargs))

    def activate_webhook(self, hook: dict[str, Any], *, secret: str | None) -> dict[str, Any]:
        """Set a webhook Webex disabled active again, keeping its name and address, with `secret`
        (sent every time: a webhook re-activated without it might go on unsigned)."""
        return self.update_webhook(hook["id"], name=hook["name"], target_url=hook["targetUrl"], secret=secret)

    def delete_webhook(self, webhook_id: str) -> None:
        """DELETE /webhooks/{id}."""
        self._call("delete webhook", self.api.webhooks.delete, webhook_id)
