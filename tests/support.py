"""The bot wired to the sandbox over real HTTP, driven step by step (no worker threads, no sleeps).

The sandbox delivers signed webhooks to the bot's endpoint exactly as Webex does; the test
then runs the inbox, outbox and timers itself, so every step is deterministic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.clock import AMSTERDAM

import commands
from bot.app import build_app, create_app, registries
from bot.config import Settings
from bot.router import Router
from bot.inbox import InboxWorker
from bot.launch import register_webhooks
from bot.pacing import BulkPacer
from bot.sender import OutboxSender
from sandbox.api import create_sandbox_app
from sandbox.demo import BOT_EMAIL, BOT_TOKEN, build_demo_state
from bot.scheduler import Scheduler
from bot.serving import serve_in_thread
from bot.webex import WebexClient
from tests.contract import webex_contract

SECRET = "test-webhook-secret"
DELIVERY_TIMEOUT_S = 10


def command_router() -> Router:
    """A router holding every command family, as build_app fills one."""
    return registries(commands.register)[0]


class Harness:
    """A sandbox Webex, the bot's webhook endpoint, and hand-cranked workers on one database."""

    def __init__(self, db, clock, *, admins: frozenset[str] = frozenset()) -> None:
        self.clock = clock
        self.state = build_demo_state(bot_token=BOT_TOKEN, now=clock.now)
        # Every request the bot makes and every answer it gets must be as Webex documents them.
        webex_contract.watch(self.state, strict_requests=True)
        self.sandbox = serve_in_thread(create_sandbox_app(self.state))
        self.settings = Settings(
            webex_access_token=BOT_TOKEN,
            webex_base_url=f"{self.sandbox.url}/v1/",
            webex_webhook_secret=SECRET,
            database_url=db.url,
            bot_admins=admins,
        )
        self.runtime = build_app(self.settings, commands.register, db=db, clock=clock,
                                 webex=WebexClient(access_token=BOT_TOKEN, base_url=self.settings.webex_base_url))
        self.bot = serve_in_thread(create_app(self.runtime))
        register_webhooks(self.runtime.webex, public_url=self.bot.url, secret=SECRET, instance=self.settings.bot_instance)
        self.inbox = InboxWorker(self.runtime, worker_id="test-inbox")
        self.sender = OutboxSender(db, self.runtime.webex, clock, worker_id="test-outbox", metrics=self.runtime.metrics,
                                   access=self.runtime.access, pacer=BulkPacer(self.settings.bulk_per_second))
        self.scheduler = Scheduler(db, clock, worker_id="test-timers", runtime=self.runtime)

    def seed_directory(self) -> None:
        """Bind the demo spaces and grant the demo staff roles, as `run_bot.py sandbox` does."""
        from sandbox.demo import seed_directory

        with self.runtime.db.scope() as session:
            seed_directory(session, self.state, now=self.clock.now(), desk=self.runtime.rules.desk)

    def room(self, title: str) -> dict[str, Any]:
        """A demo room by title."""
        return self.state.room_by_title(title)

    def say(self, email: str, room_title: str, text: str, *, mention: bool = True, parent_id: str | None = None) -> dict[str, Any]:
        """Post as a person (mentioning the bot) and, when the bot will hear it, wait for the webhook."""
        markdown = f"<@personEmail:{BOT_EMAIL}> {text}" if mention else text
        room = self.room(room_title)
        message = self.state.post_message(email, room_id=room["id"], markdown=markdown, parent_id=parent_id)
        if mention or room["type"] == "direct":
            assert self.state.wait_delivered(message["id"], timeout=DELIVERY_TIMEOUT_S), "Webex did not deliver the webhook"
        return message

    def say_direct(self, email: str, text: str) -> dict[str, Any]:
        """Write to the bot in the person's 1:1 space and wait for the webhook."""
        message = self.state.post_message(email, to_person_email=BOT_EMAIL, markdown=text)
        assert self.state.wait_delivered(message["id"], timeout=DELIVERY_TIMEOUT_S), "Webex did not deliver the webhook"
        return message

    def direct_messages(self, email: str) -> list[dict[str, Any]]:
        """What the bot has posted in its 1:1 space with `email`."""
        room = self.state.direct_room(email, BOT_EMAIL)
        me = self.runtime.webex.identity().person_id
        return [m for m in self.state.messages_in(room["id"]) if m["personId"] == me]

    def press(self, email: str, card_message: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        """Press a button on one of the bot's cards as `email` and wait for the webhook."""
        action = self.state.submit_card(email, card_message["id"], inputs)
        assert self.state.wait_delivered(action["id"], timeout=DELIVERY_TIMEOUT_S), "Webex did not deliver the webhook"
        return action

    def add_bot_to_new_room(self, title: str, creator_email: str) -> dict[str, Any]:
        """Someone creates a space and adds the bot: Webex tells the bot with memberships/created."""
        room = self.state.add_room(title, [creator_email], creator_email=creator_email)
        membership = self.state.add_member(room["id"], BOT_EMAIL, actor_email=creator_email)
        assert self.state.wait_delivered(membership["id"], timeout=DELIVERY_TIMEOUT_S), "Webex did not deliver the webhook"
        return room

    def add_customer_space(self, title: str, org_name: str, member_email: str, *, language: str = "en") -> dict[str, Any]:
        """A new space with the bot and `member_email`, bound as the customer space of a new organisation."""
        from storage import directory

        room = self.add_bot_to_new_room(title, member_email)
        self.run()
        with self.runtime.db.scope() as s:
            now = self.clock.now()
            org = directory.create_org(s, name=org_name, actor="test", room_id=None, now=now, language=language)
            directory.set_space_kind(s, room_id=room["id"], room_type="group", kind="customer", org=org, actor="test", now=now)
        return room

    def add_member(self, title: str, email: str) -> dict[str, Any]:
        """Add a person to a space the bot is in (the bot's webhooks hear only its own memberships)."""
        return self.state.add_member(self.room(title)["id"], email)

    def remove_bot(self, title: str, by_email: str) -> dict[str, Any]:
        """Someone removes the bot from a space: Webex tells the bot with memberships/deleted."""
        membership = next(m for m in self.state.memberships.values()
                          if m["roomId"] == self.room(title)["id"] and m["personEmail"] == BOT_EMAIL)
        before = len(self.state.deliveries)
        self.state.remove_member(membership["roomId"], BOT_EMAIL, actor_email=by_email)
        assert self.state.wait_delivered(membership["id"], timeout=DELIVERY_TIMEOUT_S, since=before), "Webex did not deliver the webhook"
        return membership

    def add_bot(self, title: str, by_email: str) -> dict[str, Any]:
        """Someone adds the bot to an existing space: Webex tells the bot with memberships/created."""
        before = len(self.state.deliveries)
        membership = self.state.add_member(self.room(title)["id"], BOT_EMAIL, actor_email=by_email)
        assert self.state.wait_delivered(membership["id"], timeout=DELIVERY_TIMEOUT_S, since=before), "Webex did not deliver the webhook"
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
        """Stop the servers."""
        self.bot.stop()
        self.sandbox.stop()
        close = getattr(self.state, "close", None)
        if close is not None:
            close()


def local(*parts: int) -> datetime:
    """An Amsterdam wall-clock time: local(2026, 1, 9, 17, 0)."""
    return datetime(*parts, tzinfo=AMSTERDAM)


def ask(harness: Harness, email: str, room_title: str, text: str, **kw: Any) -> dict[str, Any]:
    """Say `text` to the bot in a space, let it work, and return its last message there."""
    harness.say(email, room_title, text, **kw)
    harness.run()
    return harness.bot_messages(room_title)[-1]


def answer(harness: Harness, email: str, room_title: str, text: str, **kw: Any) -> str:
    """The markdown of the bot's last message after `ask`."""
    return ask(harness, email, room_title, text, **kw)["markdown"]


def tick(harness: Harness, instant: datetime) -> None:
    """Move the clock, fire what is due, send what that queued."""
    harness.clock.set(instant)
    harness.scheduler.run_due()
    harness.run()


def race(db, first: Callable[[Any], Any], second: Callable[[Any], Any]) -> tuple[Any, Any]:
    """Run `first(session)` in a transaction, and while it is still open `second(session)` in
    another (which then waits for the first's rows, or on SQLite its lock), then let the first
    commit; (first's result, second's result). Raises what either raised."""
    first_done, let_first_commit = threading.Event(), threading.Event()
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run_first() -> None:
        try:
            with db.scope() as session:
                results["first"] = first(session)
                first_done.set()
                let_first_commit.wait(10)
        except BaseException as exc:  # raised below
            errors.append(exc)
            first_done.set()

    def run_second() -> None:
        try:
            with db.scope() as session:
                results["second"] = second(session)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run_first)]
    threads[0].start()
    assert first_done.wait(10)
    threads.append(threading.Thread(target=run_second))
    threads[1].start()
    threads[1].join(0.3)  # the second is now waiting on the first
    let_first_commit.set()
    for thread in threads:
        thread.join(10)
    if errors:
        raise errors[0]
    return results["first"], results["second"]
