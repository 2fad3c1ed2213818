"""A maintenance's notice text, and the running maintenance an incident on its service meets at intake."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import i18n
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.text import escape_markdown
from cards import maintenance as mnt_cards
from storage.models.operations import Maintenance


def notice_text(maintenance: Maintenance, kind: str, lang: str, **extra: object) -> str:
    """The notice of `kind` (announced, reminder, started, …, during, view) in `lang`."""
    services = ", ".join(maintenance.services)
    start, end = i18n.when(maintenance.starts_at, lang, AMSTERDAM), i18n.when(maintenance.ends_at, lang, AMSTERDAM)
    lines = [
        i18n.t(f"mnt.notice.{kind}", lang, number=maintenance.number, services=services, start=start, end=end, **extra)
    ]
    if kind in ("announced", "reminder", "rescheduled", "changed"):
        lines.append(i18n.t("mnt.notice.impact", lang, impact=escape_markdown(maintenance.impact)))
        if not maintenance.planned and maintenance.reason:
            lines.append(i18n.t("mnt.notice.adhoc", lang, reason=escape_markdown(maintenance.reason)))
    return "\n".join(lines)


def active_for(session: Session, service: str | None, now: datetime) -> Maintenance | None:
    """A started, not yet completed maintenance on `service`."""
    if not service:
        return None
    for maintenance in session.scalars(
        select(Maintenance).where(
            Maintenance.status == "started", Maintenance.starts_at <= now, Maintenance.ends_at > now
        )
    ):
        if service in maintenance.services:
            return maintenance
    return None


def during_maintenance_card(
    ctx: Context, maintenance: Maintenance, inputs: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The answer to an incident about a service under maintenance: the notice and "report anyway"."""
    notice = notice_text(maintenance, "during", ctx.lang)
    resubmit = {
        **{k: v for k, v in inputs.items() if isinstance(v, (str, int))},
        "action": "ticket.create",
        "kind": "incident",
        "despite_maintenance": maintenance.number,
    }
    return notice, mnt_cards.during_maintenance(
        number=maintenance.number,
        services=", ".join(maintenance.services),
        start=i18n.when(maintenance.starts_at, ctx.lang, AMSTERDAM),
        end=i18n.when(maintenance.ends_at, ctx.lang, AMSTERDAM),
        resubmit=resubmit,
        lang=ctx.lang,
    )


def on_incident_intake(
    ctx: Context, *, service: str | None, inputs: dict[str, Any], now: datetime
) -> tuple[str, str, dict[str, Any]] | None:
    """An incident about to be registered: (number, notice, "report anyway" card) of a maintenance running on its service."""
    active = active_for(ctx.session, service, now)
    if active is None:
        return None
    notice, card = during_maintenance_card(ctx, active, inputs)
    return active.number, notice, card
