"""A ticket's timeline written by whoever acts in the context: the actor and the space come from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.context import Context
from storage import tickets as store
from storage.models.tickets import Ticket


def change(ctx: Context, ticket: Ticket, *, now: datetime, action: str, **changes: Any) -> None:
    """Set fields of the ticket and put the change on its timeline, as this actor in this space."""
    store.change(
        ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action=action, **changes
    )


def note(ctx: Context, ticket: Ticket, *, now: datetime, action: str, text: str) -> None:
    """Something this actor said about the ticket in this space, on its timeline."""
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action=action, text=text)
