"""Maintenance cards: the announcement form, and the notice shown instead of a new incident."""

from __future__ import annotations

from typing import Any

from bot import i18n
from bot.fields import Field
from cards.common import Cut, card, fit, says, shortened, submit, text

IMPACT_MAX = 2000
# What "report it anyway" carries that may be shortened to fit a card.
_FREE_TEXT = ("title", "description")


# What the announcement form submits: router.card_action's `fields`.
ANNOUNCE_FIELDS = {
    "services": Field.CHOICES,
    "start": Field.TEXT,
    "end": Field.TEXT,
    "impact": Field.TEXT,
    "adhoc": Field.FLAG,
    "reason": Field.TEXT,
}


class Action:
    """Action ids of maintenance buttons."""

    ANNOUNCE = "maintenance.announce"


def announce_form(*, services: list[tuple[str, str]], lang: str) -> dict[str, Any]:
    """Services, start, end, expected impact, planned or ad-hoc (with the reason)."""

    def t(key: str, **v: object) -> str:
        return i18n.t(key, lang, **v)

    return card(
        [
            text(t("mnt.form.title"), weight="Bolder", size="Medium"),
            {
                "type": "Input.ChoiceSet",
                "id": "services",
                "label": t("mnt.form.services"),
                "isMultiSelect": True,
                "isRequired": True,
                "errorMessage": t("mnt.error.services"),
                "choices": [{"title": n, "value": c} for n, c in services],
            },
            {
                "type": "Input.Text",
                "id": "start",
                "label": t("mnt.form.start"),
                "isRequired": True,
                "placeholder": "2026-12-10 01:00",
                "errorMessage": t("mnt.error.start"),
                "maxLength": 40,
            },
            {
                "type": "Input.Text",
                "id": "end",
                "label": t("mnt.form.end"),
                "isRequired": True,
                "placeholder": "2026-12-10 05:00",
                "errorMessage": t("mnt.error.end"),
                "maxLength": 40,
            },
            {
                "type": "Input.Text",
                "id": "impact",
                "label": t("mnt.form.impact"),
                "isRequired": True,
                "isMultiline": True,
                "errorMessage": t("mnt.error.impact"),
                "maxLength": IMPACT_MAX,
            },
            {
                "type": "Input.Toggle",
                "id": "adhoc",
                "title": t("mnt.form.adhoc"),
                "value": "false",
                "valueOn": "true",
                "valueOff": "false",
            },
            {"type": "Input.Text", "id": "reason", "label": t("mnt.form.reason"), "maxLength": IMPACT_MAX},
        ],
        [submit(t("form.submit"), Action.ANNOUNCE)],
    )


def during_maintenance(
    *, number: str, services: str, start: str, end: str, resubmit: dict[str, Any], lang: str
) -> dict[str, Any]:
    """Explainable downtime is not an incident: the notice, and a button to report it anyway.

    The button carries the report as typed (`resubmit`); a title or description too long for a
    card is shortened there, and the card says so.
    """

    def build(cut: Cut) -> dict[str, Any]:
        data = {k: cut(v) if k in _FREE_TEXT and isinstance(v, str) else v for k, v in resubmit.items()}
        body = [text(says("mnt.notice.during", lang, number=number, services=services, start=start, end=end))]
        if cut.shortened:
            body.append(shortened(lang, "card.shortened.report"))
        return card(body, [{"type": "Action.Submit", "title": i18n.t("mnt.report_anyway", lang), "data": data}])

    return fit(build)
