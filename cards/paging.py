"""The page card an on-call engineer gets on their phone: one tap to acknowledge."""

from __future__ import annotations

from typing import Any

from bot import i18n
from cards.common import Field, card, facts, submit, text, typed


# What the page card's buttons carry: router.card_action's `fields`.
PAGE_FIELDS = {"ticket": Field.TEXT, "page": Field.ID}
VIEW_FIELDS = {"ticket": Field.TEXT}


class Action:
    """Action ids of page buttons."""

    ACK = "page.ack"
    DECLINE = "page.decline"
    VIEW = "page.view"


def page_card(*, number: str, org: str, service: str | None, impact: str, since: str, title: str, page_id: int,
              lang: str) -> dict[str, Any]:
    """Ticket, customer, service, impact and time since start; Acknowledge / Decline / Open ticket.

    `org`, `title` and `impact` as typed; the title of an incident is short enough for any card.
    What the customer typed shows no web address as a link: an engineer woken at night taps only
    the buttons.
    """
    t = lambda key, **v: i18n.t(key, lang, **v)  # noqa: E731 - local shorthand
    return card(
        [
            text(t("page.card.title", number=number), weight="Bolder", size="Large"),
            text(typed(title, links=False)),
            facts([(t("page.card.customer"), typed(org)), (t("page.card.service"), typed(service or "—")),
                   (t("page.card.impact"), typed(impact, links=False)), (t("page.card.since"), since)]),
        ],
        [
            submit(t("button.ack"), Action.ACK, ticket=number, page=page_id),
            submit(t("button.decline"), Action.DECLINE, ticket=number, page=page_id),
            submit(t("button.view"), Action.VIEW, ticket=number),
        ],
    )
