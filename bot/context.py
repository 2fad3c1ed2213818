"""The Context a handler gets: who acts, where, the transaction, the clock and how to reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from bot import i18n, outbox
from bot.access import WebexAccess
from bot.clock import Clock
from bot.config import Settings
from bot.events import CardSubmitEvent, JoinEvent, LeaveEvent, MessageEvent
from bot.metrics import Metrics
from bot.security import CUSTOMER, roles_of
from bot.webex import WebexClient
from rules import Rules
from storage import directory
from storage.db import Database
from storage.models.runtime import OutboxMessage

if TYPE_CHECKING:  # the router and the timer registry hand handlers a Context: they import this module
    from bot.router import Router
    from bot.scheduler import TimerRegistry

Event = MessageEvent | CardSubmitEvent | JoinEvent | LeaveEvent


class RuntimeView(Protocol):
    """What a handler, a flow, a timer and the inbox worker may use of the runtime (bot/app.py Runtime)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def db(self) -> Database: ...

    @property
    def webex(self) -> WebexClient: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def access(self) -> WebexAccess: ...

    @property
    def router(self) -> Router: ...

    @property
    def timers(self) -> TimerRegistry: ...

    @property
    def version(self) -> str: ...

    @property
    def rules(self) -> Rules: ...

    def wake_outbox(self) -> None:
        """Tell in-process senders there is work."""


@dataclass(frozen=True)
class Actor:
    """The person acting, with the roles they hold right now."""

    person_id: str
    email: str
    display_name: str = ""
    roles: frozenset[str] = frozenset()

    def has_any(self, roles: frozenset[str]) -> bool:
        """True when the actor holds at least one of `roles`."""
        return bool(self.roles & roles)


@dataclass(frozen=True)
class Space:
    """The Webex space an event came from, and what it is to the desk."""

    room_id: str
    room_type: str  # "group" | "direct"
    kind: str = "unbound"  # customer | staff | unbound | direct
    org_id: int | None = None
    org_name: str | None = None
    sla_profile: str | None = None


@dataclass
class Context:
    """Handed to every command and card-action handler."""

    session: Session
    clock: Clock
    actor: Actor
    space: Space
    event: Event
    runtime: RuntimeView
    lang: str = i18n.DEFAULT_LANGUAGE
    sent: list[OutboxMessage] = field(default_factory=list)

    def now(self) -> datetime:
        """The current instant (UTC)."""
        return self.clock.now()

    @property
    def rules(self) -> Rules:
        """The calendars, profiles and desk in use."""
        return self.runtime.rules

    def t(self, key: str, **values: object) -> str:
        """A text from the catalogues in this context's language."""
        return i18n.t(key, self.lang, **values)

    def reply(
        self,
        markdown: str,
        *,
        card: dict[str, Any] | None = None,
        files: list[dict[str, str]] | None = None,
        bulk: bool = False,
    ) -> OutboxMessage:
        """Answer where the event happened: in its thread if it had one, under the card for buttons."""
        parent = self.event.parent_id if isinstance(self.event, MessageEvent) else self.event.thread_root
        return self.send(
            room_id=self.space.room_id, markdown=markdown, card=card, parent_id=parent, files=files, bulk=bulk
        )

    def audit(
        self,
        *,
        subject_type: str,
        subject: str,
        action: str,
        old: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        """A line on the audit timeline: this actor, in this space, now (or `at`)."""
        directory.audit(
            self.session,
            at=at or self.now(),
            actor=self.actor.email,
            room_id=self.space.room_id,
            subject_type=subject_type,
            subject=subject,
            action=action,
            old=old,
            new=new,
        )

    def send(
        self,
        *,
        markdown: str,
        room_id: str | None = None,
        to_person_email: str | None = None,
        card: dict[str, Any] | None = None,
        parent_id: str | None = None,
        parent_outbox_id: int | None = None,
        purpose: str | None = None,
        bulk: bool = False,
        files: list[dict[str, str]] | None = None,
    ) -> OutboxMessage:
        """Queue a message to any space or person; it goes out after this transaction commits
        (`bulk`: one of many to an audience, paced and after conversation)."""
        attachments = [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}] if card else None
        row = outbox.enqueue(
            self.session,
            now=self.now(),
            room_id=room_id,
            to_person_email=to_person_email,
            markdown=markdown,
            text=None,
            parent_id=parent_id,
            parent_outbox_id=parent_outbox_id,
            attachments=attachments,
            files=files,
            purpose=purpose,
            bulk=bulk,
        )
        self.sent.append(row)
        return row


def build_context(session: Session, event: Event, runtime: RuntimeView) -> Context:
    """Who acts where, with which roles and in which language, read from the directory now.

    Roles are read at every event, so a revocation counts from the next command. Members of a
    space bound to an organisation are its customers there; the language is the space's (or
    its organisation's) in group spaces and the person's in 1:1 spaces.
    """
    now = runtime.clock.now()
    sender = event.sender
    record, org = directory.space_and_org(session, room_id=event.room_id)
    if event.room_type == "direct":
        kind = "direct"
    else:
        kind = record.kind if record is not None else "unbound"
    roles = set(roles_of(sender.email, admins=runtime.settings.bot_admins, session=session))
    if kind == "customer" and org is not None:
        roles.add(CUSTOMER)
    person = None
    if not isinstance(event, (JoinEvent, LeaveEvent)) and sender.email:
        person = directory.touch_person(
            session, email=sender.email, person_id=sender.person_id, display_name=sender.display_name, now=now
        )
    if kind == "direct":
        lang = person.language if person is not None and person.language else i18n.DEFAULT_LANGUAGE
    else:
        lang = directory.language_of(record, org) or i18n.DEFAULT_LANGUAGE
    return Context(
        session=session,
        clock=runtime.clock,
        actor=Actor(
            person_id=sender.person_id, email=sender.email, display_name=sender.display_name, roles=frozenset(roles)
        ),
        space=Space(
            room_id=event.room_id,
            room_type=event.room_type,
            kind=kind,
            org_id=org.id if org else None,
            org_name=org.name if org else None,
            sla_profile=org.sla_profile if org else None,
        ),
        event=event,
        runtime=runtime,
        lang=lang,
    )
