"""Disruption cards: the open/update/close forms, the customer notice, the staff's proposal."""

from __future__ import annotations

from typing import Any

from bot import i18n
from bot.fields import Field
from cards.common import Cut, card, fit, says, shortened, submit, text

FIELD_MAX = 2000
# What each form and button submits: router.card_action's `fields`.
UPDATE_FIELDS = {
    "disruption": Field.TEXT,
    "impact": Field.TEXT,
    "actions": Field.TEXT,
    "next_steps": Field.TEXT,
    "next_update": Field.TEXT,
}
OPEN_FIELDS = {
    "services": Field.CHOICES,
    "severity": Field.TEXT,
    "tickets": Field.TEXT,
    **{k: v for k, v in UPDATE_FIELDS.items() if k != "disruption"},
}
CLOSE_FIELDS = {"disruption": Field.TEXT, "summary": Field.TEXT, "cause": Field.TEXT, "rca": Field.FLAG}
NOTICE_FIELDS = {"disruption": Field.TEXT}
PROPOSAL_FIELDS = {"proposal": Field.ID}


class Action:
    """Action ids of disruption buttons."""

    OPEN = "disruption.open"
    UPDATE = "disruption.update"
    CLOSE = "disruption.close"
    AFFECTED = "disruption.affected"
    MINE = "disruption.mine"
    PROPOSAL_OPEN = "disruption.proposal.open"
    PROPOSAL_DISMISS = "disruption.proposal.dismiss"


def _text_input(
    input_id: str,
    label: str,
    *,
    lang: str,
    required: bool = True,
    multiline: bool = True,
    max_length: int = FIELD_MAX,
    placeholder: str | None = None,
) -> dict[str, Any]:
    field: dict[str, Any] = {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "maxLength": max_length,
        "isMultiline": multiline,
    }
    if required:
        field["isRequired"] = True
        field["errorMessage"] = i18n.t(f"dis.error.{input_id}", lang)
    if placeholder:
        field["placeholder"] = placeholder
    return field


def _update_fields(lang: str) -> list[dict[str, Any]]:
    def t(key: str) -> str:
        return i18n.t(key, lang)

    return [
        _text_input("impact", t("dis.field.impact"), lang=lang),
        _text_input("actions", t("dis.field.actions"), lang=lang),
        _text_input("next_steps", t("dis.field.next_steps"), lang=lang),
        _text_input(
            "next_update", t("dis.field.next_update"), lang=lang, multiline=False, max_length=40, placeholder="14:30"
        ),
    ]


def open_form(*, services: list[tuple[str, str]], lang: str, tickets: str = "") -> dict[str, Any]:
    """Open a disruption: services, severity, impact, actions, next steps, next update time."""
    body = [
        text(i18n.t("dis.form.open", lang), weight="Bolder", size="Medium"),
        {
            "type": "Input.ChoiceSet",
            "id": "services",
            "label": i18n.t("dis.field.services", lang),
            "isMultiSelect": True,
            "isRequired": True,
            "errorMessage": i18n.t("dis.error.services", lang),
            "choices": [{"title": n, "value": c} for n, c in services],
        },
        {
            "type": "Input.ChoiceSet",
            "id": "severity",
            "label": i18n.t("dis.field.severity", lang),
            "style": "compact",
            "value": "P2",
            "choices": [{"title": p, "value": p} for p in ("P1", "P2", "P3")],
        },
        *_update_fields(lang),
    ]
    return card(body, [submit(i18n.t("form.submit", lang), Action.OPEN, tickets=tickets)])


def update_form(*, number: str, lang: str) -> dict[str, Any]:
    """An update: all four fields are required."""
    return card(
        [text(i18n.t("dis.form.update", lang, number=number), weight="Bolder", size="Medium"), *_update_fields(lang)],
        [submit(i18n.t("form.submit", lang), Action.UPDATE, disruption=number)],
    )


def close_form(*, number: str, lang: str, rca: bool = False) -> dict[str, Any]:
    """Closing: summary and cause; a P1-level disruption's form (`rca`) says its root cause analysis follows."""
    body = [
        text(i18n.t("dis.form.close", lang, number=number), weight="Bolder", size="Medium"),
        _text_input("summary", i18n.t("dis.field.summary", lang), lang=lang),
        _text_input("cause", i18n.t("dis.field.cause", lang), lang=lang),
    ]
    if rca:
        body.append(text(i18n.t("dis.field.rca", lang), is_subtle=True))
    return card(body, [submit(i18n.t("form.submit", lang), Action.CLOSE, disruption=number)])


def notice(
    *,
    kind: str,
    number: str,
    services: str,
    severity: str,
    impact: str,
    actions: str,
    next_steps: str,
    next_update: str,
    lang: str,
) -> dict[str, Any]:
    """A notice to customers ("opened" or "updated"): "We are affected too" and "Show my linked tickets".

    Impact, actions and next steps as typed, one line each; when they are too long for a card
    they are shortened and the card says the whole notice is in the message above it.
    """

    def build(cut: Cut) -> dict[str, Any]:
        body = [
            text(says(f"dis.notice.{kind}", lang, number=number, services=services, severity=severity)),
            text(says("dis.notice.impact", lang, text=cut(impact))),
            text(says("dis.notice.actions", lang, text=cut(actions))),
            text(says("dis.notice.next_steps", lang, text=cut(next_steps))),
            text(says("dis.notice.next_update", lang, time=next_update)),
        ]
        if cut.shortened:
            body.append(shortened(lang, "card.shortened.above"))
        return card(
            body,
            [
                submit(i18n.t("dis.button.affected", lang), Action.AFFECTED, disruption=number),
                submit(i18n.t("dis.button.mine", lang), Action.MINE, disruption=number),
            ],
        )

    return fit(build)


def proposal(*, count: int, service: str, orgs: int, tickets: str, proposal_id: int, lang: str) -> dict[str, Any]:
    """To the staff: these incidents look like one disruption."""
    body = says("dis.proposal", lang, count=count, service=service, orgs=orgs, tickets=tickets)
    return card(
        [text(body)],
        [
            submit(i18n.t("dis.button.open", lang), Action.PROPOSAL_OPEN, proposal=proposal_id),
            submit(i18n.t("dis.button.not_related", lang), Action.PROPOSAL_DISMISS, proposal=proposal_id),
        ],
    )
