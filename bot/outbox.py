"""The outbox: every message the bot sends is a row first, queued in the transaction that decides to
send it; bot/sender.py delivers the rows, in order per space.

A row is urgent (P1 pages and their outcome), conversation (answers, staff alerts) or bulk
(notices to a whole audience, reports); the sender takes them in that order among the spaces'
heads. A text longer than Webex takes is queued as several messages, in order, in one thread.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models.runtime import OutboxMessage

UNFINISHED = ("pending", "sending")
# Webex refuses a message whose text or markdown is longer (400).
MAX_MESSAGE_BYTES = 7439
URGENT, NORMAL, BULK = 0, 1, 2
# Webex takes a card of about 20 KB of JSON; measured as the SDK sends it (card_bytes).
MAX_CARD_BYTES = 20_000


def card_bytes(card: dict[str, Any]) -> int:
    """The card's size as Webex receives it: requests serialises the body with json.dumps' defaults,
    so every non-ASCII character travels as \\uXXXX (six bytes, twelve for an emoji)."""
    return len(json.dumps(card).encode("ascii"))


def _order_key(room_id: str | None, to_person_email: str | None) -> str:
    if room_id:
        return room_id
    if to_person_email:
        return f"person:{to_person_email.lower()}"
    raise ValueError("a message needs a room_id or a to_person_email")


def split_message(body: str, limit: int = MAX_MESSAGE_BYTES) -> list[str]:
    """`body` in pieces of at most `limit` UTF-8 bytes, cut after a line where one fits, else
    inside the line at a character boundary that keeps an escape (`\\*`, `&lt;`) whole; the
    pieces joined give `body` back."""
    pieces: list[str] = []
    current = ""
    for line in body.splitlines(keepends=True):
        if len((current + line).encode("utf-8")) <= limit:
            current += line
            continue
        if current:
            pieces.append(current)
            current = ""
        while len(line.encode("utf-8")) > limit:
            cut = _escape_boundary(line, len(line.encode("utf-8")[:limit].decode("utf-8", errors="ignore")))
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


def _escape_boundary(line: str, cut: int) -> int:
    """`cut`, moved back so that no piece ends inside an escape: a backslash escapes the character
    after it and `&…;` is one character, and a piece starting with what they escaped shows markup."""
    entity = line.rfind("&", max(cut - 8, 0), cut)
    if entity >= 0 and ";" not in line[entity:cut] and ";" in line[cut : entity + 8]:
        cut = entity
    backslashes = len(line[:cut]) - len(line[:cut].rstrip("\\"))
    if backslashes % 2:
        cut -= 1
    return cut if cut > 0 else 1


def enqueue(
    session: Session,
    *,
    now: datetime,
    room_id: str | None = None,
    to_person_email: str | None = None,
    text: str | None = None,
    markdown: str | None = None,
    parent_id: str | None = None,
    parent_outbox_id: int | None = None,
    attachments: list[dict[str, Any]] | None = None,
    files: list[dict[str, str]] | None = None,
    purpose: str | None = None,
    urgent: bool = False,
    bulk: bool = False,
) -> OutboxMessage:
    """Queue a new message; it is sent after the surrounding transaction commits (`urgent`: before
    other spaces' heads; `bulk`: after them, paced, for notices to many spaces).

    A message longer than Webex takes (MAX_MESSAGE_BYTES) goes as several, in order, in the same
    thread; the first is returned (the one to reply to).
    """
    if not (text or markdown):
        raise ValueError("a message needs text or markdown (also as a card's fallback)")
    if files and (attachments or len(files) > 1):
        raise ValueError("Webex takes one file per message, and not with a card")
    if attachments:
        _check_card_message(text, markdown, attachments)
    body = markdown or text or ""
    if not attachments and not files and len(body.encode("utf-8")) > MAX_MESSAGE_BYTES:
        rows = [
            enqueue(
                session,
                now=now,
                room_id=room_id,
                to_person_email=to_person_email,
                text=None if markdown else piece,
                markdown=piece if markdown else None,
                parent_id=parent_id,
                parent_outbox_id=parent_outbox_id,
                purpose=purpose,
                urgent=urgent,
                bulk=bulk,
            )
            for piece in split_message(body)
        ]
        return rows[0]
    row = OutboxMessage(
        order_key=_order_key(room_id, to_person_email),
        action="create",
        room_id=room_id,
        to_person_email=to_person_email.lower() if to_person_email else None,
        text=text,
        markdown=markdown,
        parent_id=parent_id,
        parent_outbox_id=parent_outbox_id,
        attachments=attachments,
        files=files,
        purpose=purpose,
        priority=URGENT if urgent else BULK if bulk else NORMAL,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _check_card_message(text: str | None, markdown: str | None, attachments: list[dict[str, Any]]) -> None:
    """A card message cannot be split: its fallback and its card must fit Webex's limits as they are."""
    for name, value in (("text", text), ("markdown", markdown)):
        if value is not None and len(value.encode("utf-8")) > MAX_MESSAGE_BYTES:
            raise ValueError(
                f"a card's fallback {name} has {len(value.encode('utf-8'))} bytes; Webex takes {MAX_MESSAGE_BYTES}"
            )
    for attachment in attachments:
        size = card_bytes(attachment["content"])
        if size > MAX_CARD_BYTES:
            raise ValueError(
                f"a card of {size} bytes of JSON; Webex takes about {MAX_CARD_BYTES} (cards.common.fit shortens one)"
            )


def enqueue_update(
    session: Session, *, now: datetime, target: OutboxMessage, text: str | None = None, markdown: str | None = None
) -> OutboxMessage:
    """Queue an edit of a message the bot sent (or will send) through the outbox."""
    if target.attachments or target.files:
        raise ValueError("messages with cards or files cannot be edited")
    for value in (text, markdown):
        if value is not None and len(value.encode("utf-8")) > MAX_MESSAGE_BYTES:
            raise ValueError(
                f"an edit of {len(value.encode('utf-8'))} bytes; Webex takes {MAX_MESSAGE_BYTES} and an edit cannot be split"
            )
    row = OutboxMessage(
        order_key=target.order_key,
        action="update",
        room_id=target.room_id,
        to_person_email=target.to_person_email,
        target_outbox_id=target.id,
        text=text,
        markdown=markdown,
        purpose=target.purpose,
        priority=target.priority,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def enqueue_delete(session: Session, *, now: datetime, target: OutboxMessage) -> OutboxMessage:
    """Queue the deletion of a message the bot sent (or will send)."""
    row = OutboxMessage(
        order_key=target.order_key,
        action="delete",
        room_id=target.room_id,
        to_person_email=target.to_person_email,
        target_outbox_id=target.id,
        purpose=target.purpose,
        priority=target.priority,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def pending_count(session: Session) -> int:
    """Rows not yet sent or failed."""
    return (
        session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(UNFINISHED))) or 0
    )
