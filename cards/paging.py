"""The page card an on-call engineer gets on their phone: one tap to acknowledge."""

from __future__ import annotations

from typing import Any

from bot import i18n
from bot.fields import Field
from cards.common import card, facts, says, submit, text, typed

# What the page card's buttons carry: router.card_action's `fields`.
PAGE_FIELDS = {"ticket": Field.TEXT, "page": Field.ID}
VIEW_FIELDS = {"ticket": Field.TEXT}
DECISION_FIELDS = {"ticket": Field.TEXT, "priority": Field.TEXT, "reason": Field.TEXT}


class Action:
    """Action ids of page buttons."""

    ACK = "page.ack"
    DECLINE = "page.decline"
    VIEW = "page.view"
    PRIORITY = "page.priority"


def page_card(
    *,
    number: str,
    org: str,
    service: str | None,
    impact: str,
    contact: str,
    since: str,
    title: str,
    page_id: int,
    lang: str,
) -> dict[str, Any]:
    """Ticket, customer, service, impact, whom to call back and time since start; Acknowledge / Decline / Open ticket.

    `org`, `title`, `impact` and `contact` as typed; the title of an incident is short enough for any card.
    What the customer typed shows no web address as a link: an engineer woken at night taps only
    the buttons.
    """

    def t(key: str, **v: object) -> str:
        return i18n.t(key, lang, **v)

    return card(
        [
            text(t("page.card.title", number=number), weight="Bolder", size="Large"),
            text(typed(title, links=False)),
            facts(
                [
                    (t("page.card.customer"), typed(org)),
                    (t("page.card.service"), typed(service or "—")),
                    (t("page.card.impact"), typed(impact, links=False)),
                    (t("page.card.contact"), typed(contact, links=False)),
                    (t("page.card.since"), since),
                ]
            ),
        ],
        [
            submit(t("button.ack"), Action.ACK, ticket=number, page=page_id),
            submit(t("button.decline"), Action.DECLINE, ticket=number, page=page_id),
            submit(t("button.view"), Action.VIEW, ticket=number),
        ],
    )


REASON_MAX = 200


def decision_card(*, number: str, priority: str, requested: str, lang: str) -> dict[str, Any]:
    """The acknowledgement of a page out of office hours: the engineer confirms the requested
    priority, lowers it or keeps the ticket's own (the same as `/priority`), with an optional reason."""

    def t(key: str, **v: object) -> str:
        return i18n.t(key, lang, **v)

    choices = [(requested, t("button.confirm_priority", priority=requested))]
    for level in ("P1", "P2", "P3"):
        if level > requested:  # "P2" > "P1": a lower priority
            choices.append(
                (level, t("button.keep_priority" if level == priority else "button.lower_priority", priority=level))
            )
    return card(
        [
            text(says("page.acknowledged", lang, number=number)),
            text(
                says("page.decide.title", lang, number=number, priority=priority, requested=requested), weight="Bolder"
            ),
            {"type": "Input.Text", "id": "reason", "label": t("page.decide.reason_label"), "maxLength": REASON_MAX},
        ],
        [submit(title, Action.PRIORITY, ticket=number, priority=level) for level, title in choices],
    )
