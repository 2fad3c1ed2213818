"""The bot wired to the sandbox Webex, driven step by step (no worker threads, no sleeps).

The sandbox delivers signed webhooks to the bot's endpoint exactly as Webex does; the test
then runs the inbox, outbox and timers itself, so every step is deterministic. The two talk
in this process (`IN_PROCESS`: no sockets, the bot's client records its calls) or over real
HTTP on loopback (`HTTP`: for what only a real connection shows).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import commands
from bot.app import build_app, create_app, registries
from bot.clock import SettableClock
from bot.config import Settings
from bot.inbox import InboxWorker
from bot.launch import register_webhooks
from bot.pacing import BulkPacer
from bot.router import Router
from bot.scheduler import Scheduler
from bot.sender import OutboxSender
from bot.serving import RunningServer, serve_in_thread
from bot.webex import WebexClient
from sandbox.api import create_sandbox_app
from sandbox.demo import BOT_EMAIL, BOT_TOKEN, build_demo_state, seed_directory
from storage import directory
from storage.db import Database
from tests.contract import webex_contract
from tests.harness.fake_webex import RecordingWebex
from tests.harness.loopback import InProcessServer, serve_in_process
from tests.shipped import RULES as SHIPPED

SECRET = "test-webhook-secret"
DELIVERY_TIMEOUT_S = 10
Transport = Literal["in-process", "http"]
IN_PROCESS: Transport = "in-process"
HTTP: Transport = "http"


def command_router() -> Router:
    """A router holding every command family, as build_app fills one."""
    return registries(commands.register)[0]


class Harness:
    """A sandbox Webex, the bot's webhook endpoint, and hand-cranked workers on one database."""

    def __init__(
        self,
        db: Database,
        clock: SettableClock,
        *,
        admins: frozenset[str] = frozenset(),
        transport: Transport = IN_PROCESS,
    ) -> None:
        self.clock = clock
        self.transport = transport
        self.state = build_demo_state(bot_token=BOT_TOKEN, now=clock.now)
        # Every request the bot makes and every answer it gets must be as Webex documents them.
        webex_contract.watch(self.state, strict_requests=True)
        self.sandbox = self._serve("webex", create_sandbox_app(self.state))
        self.settings = Settings(
            webex_access_token=BOT_TOKEN,
            webex_base_url=f"{self.sandbox.url}/v1/",
            webex_webhook_secret=SECRET,
            database_url=db.url,
            bot_admins=admins,
        )
        # The shipped rules, loaded once per process: their calendars keep the years they computed.
        self.runtime = build_app(
            self.settings, commands.register, db=db, clock=clock, webex=self._webex_client(), rules=SHIPPED
        )
        self.bot = self._serve("bot", create_app(self.runtime))
        register_webhooks(
            self.runtime.webex, public_url=self.bot.url, secret=SECRET, instance=self.settings.bot_instance
        )
        self.inbox = InboxWorker(self.runtime, worker_id="test-inbox")
        self.sender = OutboxSender(
            db,
            self.runtime.webex,
            clock,
            worker_id="test-outbox",
            metrics=self.runtime.metrics,
            access=self.runtime.access,
            pacer=BulkPacer(self.settings.bulk_per_second),
        )
        self.scheduler = Scheduler(db, clock, worker_id="test-timers", runtime=self.runtime)

    def _serve(self, name: str, app: Any) -> RunningServer | InProcessServer:
        if self.transport == HTTP:
            return serve_in_thread(app)
        return serve_in_process(name, app)

    def _webex_client(self) -> WebexClient:
        if self.transport == HTTP:
            return WebexClient(access_token=BOT_TOKEN, base_url=self.settings.webex_base_url)
        return RecordingWebex(access_token=BOT_TOKEN, base_url=self.settings.webex_base_url)

    def seed_directory(self) -> None:
        """Bind the demo spaces and grant the demo staff roles, as `run_bot.py sandbox` does."""
        with self.runtime.db.scope() as session:
            seed_directory(session, self.state, now=self.clock.now(), desk=self.runtime.rules.desk)

    def room(self, title: str) -> dict[str, Any]:
        """A demo room by title."""
        return self.state.room_by_title(title)

    def _delivered(self, data_id: str, *, since: int = 0) -> None:
        """Wait until the sandbox delivered the webhook about `data_id` (after its first `since` deliveries)."""
        delivered = self.state.wait_delivered(data_id, timeout=DELIVERY_TIMEOUT_S, since=since)
        assert delivered, "Webex did not deliver the webhook"

    def say(
        self, email: str, room_title: str, text: str, *, mention: bool = True, parent_id: str | None = None
    ) -> dict[str, Any]:
        """Post as a person (mentioning the bot) and, when the bot will hear it, wait for the webhook."""
        markdown = f"<@personEmail:{BOT_EMAIL}> {text}" if mention else text
        room = self.room(room_title)
        message = self.state.post_message(email, room_id=room["id"], markdown=markdown, parent_id=parent_id)
        if mention or room["type"] == "direct":
            self._delivered(message["id"])
        return message

    def say_direct(self, email: str, text: str) -> dict[str, Any]:
        """Write to the bot in the person's 1:1 space and wait for the webhook."""
        message = self.state.post_message(email, to_person_email=BOT_EMAIL, markdown=text)
        self._delivered(message["id"])
        return message

    def direct_messages(self, email: str) -> list[dict[str, Any]]:
        """What the bot has posted in its 1:1 space with `email`."""
        room = self.state.direct_room(email, BOT_EMAIL)
        me = self.runtime.webex.identity().person_id
        return [m for m in self.state.messages_in(room["id"]) if m["personId"] == me]

    def press(self, email: str, card_message: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        """Press a button on one of the bot's cards as `email` and wait for the webhook."""
        action = self.state.submit_card(email, card_message["id"], inputs)
        self._delivered(action["id"])
        return action

    def add_bot_to_new_room(self, title: str, creator_email: str) -> dict[str, Any]:
        """Someone creates a space and adds the bot: Webex tells the bot with memberships/created."""
        room = self.state.add_room(title, [creator_email], creator_email=creator_email)
        membership = self.state.add_member(room["id"], BOT_EMAIL, actor_email=creator_email)
        self._delivered(membership["id"])
        return room

    def add_customer_space(
        self, title: str, org_name: str, member_email: str, *, language: str = "en"
    ) -> dict[str, Any]:
        """A new space with the bot and `member_email`, bound as the customer space of a new organisation."""
        room = self.add_bot_to_new_room(title, member_email)
        self.run()
        with self.runtime.db.scope() as s:
            now = self.clock.now()
            org = directory.create_org(s, name=org_name, actor="test", room_id=None, now=now, language=language)
            directory.set_space_kind(
                s, room_id=room["id"], room_type="group", kind="customer", org=org, actor="test", now=now
            )
        return room

    def add_member(self, title: str, email: str) -> dict[str, Any]:
        """Add a person to a space the bot is in (the bot's webhooks hear only its own memberships)."""
        return self.state.add_member(self.room(title)["id"], email)

    def remove_bot(self, title: str, by_email: str) -> dict[str, Any]:
        """Someone removes the bot from a space: Webex tells the bot with memberships/deleted."""
        membership = next(
            m
            for m in self.state.memberships.values()
            if m["roomId"] == self.room(title)["id"] and m["personEmail"] == BOT_EMAIL
        )
        before = len(self.state.deliveries)
        self.state.remove_member(membership["roomId"], BOT_EMAIL, actor_email=by_email)
        self._delivered(membership["id"], since=before)
        return membership

    def add_bot(self, title: str, by_email: str) -> dict[str, Any]:
        """Someone adds the bot to an existing space: Webex tells the bot with memberships/created."""
        before = len(self.state.deliveries)
        membership = self.state.add_member(self.room(title)["id"], BOT_EMAIL, actor_email=by_email)
        self._delivered(membership["id"], since=before)
        return membership

    def run(self) -> None:
        """Process every stored event, then send every due message."""
        self.inbox.drain()
        self.sender.drain()

    def bot_messages(self, room_title: str) -> list[dict[str, Any]]:
        """What the bot has posted in a room, oldest first."""
        me = self.runtime.webex.identity().person_id
        return [m for m in self.state.messages_in(self.room(room_title)["id"]) if m["personId"] == me]

    def at(self, instant: datetime) -> None:
        """Move the clock."""
        self.clock.set(instant)

    def close(self) -> None:
        """Stop the servers (or stop answering in process) and the sandbox's delivery."""
        self.bot.stop()
        self.sandbox.stop()
        close = getattr(self.state, "close", None)
        if close is not None:
            close()
