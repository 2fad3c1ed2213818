"""The life of the bot's spaces: removed, added again, or refusing its posts.

A space the bot is removed from keeps its binding but is suspended: nothing is sent there of the
bot's own accord (notices, countdowns, reminders) until someone adds the bot again, which makes
it active. A space where Webex refuses the bot's posts (403/404) is marked unreachable the same
way. The staff hear of each change once, in the staff space; when that is the space concerned,
or the bot cannot post there, every admin hears of it in a 1:1.

Webex may deliver membership events late. Each space keeps when the bot's latest membership of
it began (Webex's own time, `bot_joined_at`), so a join or removal older than that changes nothing.

These are flows: they change rows and queue messages in the caller's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from bot import i18n, undeliverable
from bot.outbox import enqueue
from bot.scheduler import TimerContext
from bot.security import ADMIN
from bot.text import escape_markdown
from storage import directory
from storage.directory import ACTIVE, SUSPENDED, UNREACHABLE
from storage.models.directory import SpaceRecord
from storage.models.runtime import OutboxMessage

log = logging.getLogger(__name__)

SYSTEM = "system"


def admin_emails(session: Session, *, configured: frozenset[str]) -> list[str]:
    """Everyone holding the admin role: from BOT_ADMINS and granted in chat, by email."""
    granted = {grant.email for grant in directory.active_grants(session) if grant.role == ADMIN}
    return sorted(granted | {email.lower() for email in configured})


def tell_admins(
    session: Session, *, now: datetime, admins: frozenset[str], purpose: str, key: str, **values: object
) -> list[OutboxMessage]:
    """Tell every admin in a 1:1 (by email, so no space is needed), each in their language, before other spaces' messages."""
    rows = []
    for email in admin_emails(session, configured=admins):
        person = directory.person(session, email=email)
        lang = person.language if person is not None and person.language else i18n.DEFAULT_LANGUAGE
        rows.append(
            enqueue(
                session,
                now=now,
                to_person_email=email,
                markdown=i18n.t(key, lang, **values),
                purpose=purpose,
                urgent=True,
            )
        )
    if not rows:
        log.error("no admin to tell (%s): set BOT_ADMINS", purpose)
    return rows


def tell_staff(
    session: Session,
    *,
    now: datetime,
    admins: frozenset[str],
    purpose: str,
    key: str,
    urgent: bool = False,
    **values: object,
) -> list[OutboxMessage]:
    """Tell the staff: in the staff space while the bot can post there, else every admin in a 1:1."""
    staff = next(iter(directory.staff_spaces(session)), None)
    if staff is None or staff.state != ACTIVE:
        return tell_admins(session, now=now, admins=admins, purpose=purpose, key=key, **values)
    lang = staff.language or i18n.DEFAULT_LANGUAGE
    return [
        enqueue(
            session,
            now=now,
            room_id=staff.room_id,
            markdown=i18n.t(key, lang, **values),
            purpose=purpose,
            urgent=urgent,
        )
    ]


def _bound(session: Session, room_id: str) -> SpaceRecord | None:
    """The space's record, locked, when it is a customer space or the staff space."""
    record = directory.space(session, room_id=room_id, for_update=True)
    return record if record is not None and record.kind in ("customer", "staff") else None


def _key(record: SpaceRecord, what: str) -> str:
    return f"space.{what}.{'staff' if record.kind == 'staff' else 'customer'}"


def _membership(
    session: Session, *, room_id: str, room_type: str, since: datetime | None, newer: bool
) -> SpaceRecord | None:
    """The space's record, locked, for a membership event of the bot that began at `since`; None
    when the event is older than what the record knows (Webex delivered it late): a join must be
    newer than the latest membership known, a removal at least as new (it ends that membership)."""
    directory.ensure_space(session, room_id=room_id, room_type=room_type)
    record = directory.space(session, room_id=room_id, for_update=True)
    if record is None:
        raise LookupError(f"space {room_id} was just ensured, yet is not there")
    known = record.bot_joined_at
    if since is not None and known is not None and (since <= known if newer else since < known):
        log.info("a membership event of %s from %s is older than the one known (%s); ignored", room_id, since, known)
        return None
    if since is not None:
        record.bot_joined_at = since
    return record


def joined(
    session: Session, *, room_id: str, room_type: str, since: datetime | None, now: datetime, admins: frozenset[str]
) -> str | None:
    """The bot was added to a group space (its membership began at `since`): the space is active,
    and when it was suspended or unreachable a customer space's staff are told (the staff space
    hears it in the introduction). The state the space had; None for a late delivery of an older
    join, when nothing changes and nothing is to be said."""
    record = _membership(session, room_id=room_id, room_type=room_type, since=since, newer=True)
    if record is None:
        return None
    old = directory.set_space_state(
        session, record=record, state=ACTIVE, actor=SYSTEM, now=now, reason="the bot was added again"
    )
    if old != ACTIVE and record.kind == "customer":
        tell_staff(
            session,
            now=now,
            admins=admins,
            purpose="space:returned",
            key="space.returned.customer",
            org=_org_name(session, record),
        )
    if old != ACTIVE:
        log.info("added again to the %s space %s; it is active", record.kind, room_id)
    return old


def removed(
    session: Session, *, room_id: str, room_type: str, since: datetime | None, now: datetime, admins: frozenset[str]
) -> str | None:
    """The bot was removed from a group space (the membership that began at `since` ended): the
    space is suspended, its binding kept, and for a customer space or the staff space the staff
    told (the admins in 1:1s, for the staff space). The state it had; None when nothing changed
    (already suspended, or a late delivery about an older membership)."""
    record = _membership(session, room_id=room_id, room_type=room_type, since=since, newer=False)
    if record is None:
        return None
    old = directory.set_space_state(
        session, record=record, state=SUSPENDED, actor=SYSTEM, now=now, reason="the bot was removed"
    )
    if old == SUSPENDED:
        return None
    if record.kind in ("customer", "staff"):
        tell_staff(
            session,
            now=now,
            admins=admins,
            purpose="space:removed",
            key=_key(record, "removed"),
            urgent=True,
            org=_org_name(session, record),
        )
        log.warning("removed from the %s space %s; it is suspended", record.kind, room_id)
    return old


def unreachable(session: Session, *, room_id: str, now: datetime, error: str, admins: frozenset[str]) -> bool:
    """Webex answered a post to `room_id` with 403 or 404: mark a bound space (or the staff space)
    unreachable and tell the staff, once: True only for the post that changed it.

    For the outbox to call in the transaction that records the failed post.
    """
    record = _bound(session, room_id)
    if record is None:
        return False
    if record.state != ACTIVE:
        return False  # already known: suspended or unreachable
    directory.set_space_state(session, record=record, state=UNREACHABLE, actor=SYSTEM, now=now, reason=error)
    tell_staff(
        session,
        now=now,
        admins=admins,
        purpose="space:unreachable",
        key=_key(record, "unreachable"),
        urgent=True,
        org=_org_name(session, record),
        error=escape_markdown(error[:200]),
    )
    log.warning("posting to the %s space %s was refused (%s); it is unreachable", record.kind, room_id, error)
    return True


def on_undeliverable(tctx: TimerContext, failure: undeliverable.Undeliverable) -> None:
    """A post Webex refused with 403 or 404 (removed, announcement-only, gone) marks its space unreachable."""
    if failure.room_id and failure.status in (403, 404):
        admins = tctx.runtime.settings.bot_admins if tctx.runtime is not None else frozenset()
        unreachable(tctx.session, room_id=failure.room_id, now=tctx.now, error=failure.error, admins=admins)


def reached(session: Session, *, room_id: str, now: datetime, admins: frozenset[str]) -> bool:
    """A post to an unreachable space went through after all: it is active again and the staff told,
    once: True only for the post that changed it (for the outbox, as `unreachable`)."""
    record = _bound(session, room_id)
    if record is None:
        return False
    if record.state != UNREACHABLE:
        return False
    directory.set_space_state(session, record=record, state=ACTIVE, actor=SYSTEM, now=now, reason="a post went through")
    tell_staff(
        session,
        now=now,
        admins=admins,
        purpose="space:reached",
        key=_key(record, "reached"),
        org=_org_name(session, record),
    )
    return True


def _org_name(session: Session, record: SpaceRecord) -> str:
    org = directory.org_by_id(session, org_id=record.org_id) if record.org_id else None
    return escape_markdown(org.name) if org is not None else ""
