"""A disruption's notices: one per audience space, the whole notice on a card with a markdown fallback."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import i18n, outbox
from bot.clock import AMSTERDAM
from bot.text import escape_markdown
from cards import disruptions as dis_cards
from cards.common import was_shortened
from commands.common.threads import room_lang
from commands.disruptions.queries import audience_of, promised_update
from rules import Rules
from storage.models.operations import Disruption


def _lines(d: Disruption, kind: str, lang: str) -> list[str]:
    lines = [i18n.t(f"dis.notice.{kind}", lang, number=d.number, services=", ".join(d.services), severity=d.severity)]
    if kind == "closed":
        closure = d.closure or {}  # set by close() before its notice goes out
        lines.append(
            i18n.t(
                "dis.notice.summary",
                lang,
                summary=escape_markdown(closure["summary"]),
                cause=escape_markdown(closure["cause"]),
            )
        )
        if closure.get("rca"):
            lines.append(i18n.t("dis.notice.rca", lang))
        return lines
    lines += [
        i18n.t("dis.notice.impact", lang, text=escape_markdown(d.impact)),
        i18n.t("dis.notice.actions", lang, text=escape_markdown(d.actions)),
        i18n.t("dis.notice.next_steps", lang, text=escape_markdown(d.next_steps)),
        i18n.t("dis.notice.next_update", lang, time=i18n.when(promised_update(d), lang, AMSTERDAM)),
    ]
    return lines


def _notices(d: Disruption, kind: str, lang: str) -> list[tuple[str, dict[str, Any] | None]]:
    """The messages of one notice to one space: (markdown, card or None).

    The card holds the whole notice and the markdown is its fallback, or, when the notice is
    too long for a message, a short one (the header). When it is too long for a card too, the
    whole notice goes first as a message of its own (split as long messages are) and the card
    says so.
    """
    lines = _lines(d, kind, lang)
    body = "\n".join(lines)
    if kind == "closed":
        return [(body, None)]
    card = dis_cards.notice(
        kind=kind,
        number=d.number,
        services=", ".join(d.services),
        severity=d.severity,
        impact=d.impact,
        actions=d.actions,
        next_steps=d.next_steps,
        next_update=i18n.when(promised_update(d), lang, AMSTERDAM),
        lang=lang,
    )
    short = "\n".join([lines[0], i18n.t("card.fallback.details", lang)])
    if was_shortened(card):
        return [(body, None), (short, card)]
    return [(body if len(body.encode("utf-8")) <= outbox.MAX_MESSAGE_BYTES else short, card)]


def broadcast(
    session: Session, d: Disruption, kind: str, now: datetime, rooms: list[str] | None = None, *, rules: Rules
) -> int:
    """Queue one notice per audience space (the outbox sends them, in order per space)."""
    rooms = audience_of(session, d, rules=rules) if rooms is None else rooms
    for room_id in rooms:
        for markdown, card in _notices(d, kind, room_lang(session, room_id)):
            outbox.enqueue(
                session,
                now=now,
                room_id=room_id,
                markdown=markdown,
                purpose=f"disruption:{d.number}:{kind}",
                bulk=True,
                attachments=[{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]
                if card
                else None,
            )
    return len(rooms)
