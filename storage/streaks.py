"""Webhook streaks: Webex disabling one of the bot's webhooks again and again, as every process sees it.

Each process runs the watchdog; the row of a webhook decides which of them re-activates it when,
and that the staff are told once per streak. Keyword-only functions that never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import insert_missing, is_postgres
from storage.models.runtime import WebhookStreak


def all_streaks(session: Session) -> dict[str, WebhookStreak]:
    """Every webhook in a streak, by id."""
    return {row.hook_id: row for row in session.scalars(select(WebhookStreak))}


def _locked(session: Session, hook_id: str) -> WebhookStreak | None:
    return session.get(WebhookStreak, hook_id, with_for_update=is_postgres(session))


def _locked_one(session: Session, hook_id: str) -> WebhookStreak:
    return session.get_one(WebhookStreak, hook_id, with_for_update=is_postgres(session))


def take_attempt(
    session: Session, *, hook_id: str, now: datetime, first_wait: timedelta, max_wait: timedelta
) -> int | None:
    """Take the next re-activation of a disabled webhook, unless the back-off says wait: its number
    in the streak, or None. The wait after it doubles with every attempt, from `first_wait` up to `max_wait`."""
    insert_missing(session, WebhookStreak.__table__, hook_id=hook_id, attempts=0)
    row = _locked_one(session, hook_id)
    row.active_since = None  # found disabled: whatever stretch of being active there was has ended
    if row.next_attempt_at is not None and now < row.next_attempt_at:
        return None
    row.attempts += 1
    row.next_attempt_at = now + min(first_wait * 2 ** (row.attempts - 1), max(max_wait, first_wait))
    return row.attempts


def mark_told(session: Session, *, hook_id: str, now: datetime) -> bool:
    """Note that the staff were told of this streak; False when they had been already."""
    row = _locked(session, hook_id)
    if row is None or row.told_at is not None:
        return False
    row.told_at = now
    return True


def seen_active(session: Session, *, hook_id: str, now: datetime, stable: timedelta) -> bool:
    """A check found the webhook active: its streak ends once it has stayed active for `stable`
    (a later disabling starts a new one, told again). True when the streak ended now."""
    row = _locked(session, hook_id)
    if row is None:
        return False
    if row.active_since is None:
        row.active_since = now
        return False
    if now - row.active_since < stable:
        return False
    session.delete(row)
    return True
