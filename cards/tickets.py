"""Ticket cards: the staff space's ticket card, the resolve form, the customer's questions and confirmations.

The intake forms are in cards/intake.py; the limits, inputs and button ids here are shared by both.
"""

from __future__ import annotations

from typing import Any

from bot import i18n
from bot.fields import Field
from bot.text import card_markdown
from cards.common import (
    INPUT_MAX,
    Cut,
    card,
    choice_input,
    facts,
    fit,
    says,
    shortened,
    submit,
    text,
    text_input,
    typed,
)

TITLE_MAX = INPUT_MAX  # a title is a one-line input
TEXT_MAX = 4000
NAME_MAX = 200


# What each ticket button submits, by input id (and button data key), with its type: router.card_action's `fields`.
TICKET_FIELDS = {"ticket": Field.TEXT}
RESPOND_FIELDS = {**TICKET_FIELDS, "text": Field.TEXT}
PRIORITY_FIELDS = {**TICKET_FIELDS, "priority": Field.TEXT, "reason": Field.TEXT}
RESOLVE_FIELDS = {
    **TICKET_FIELDS,
    "cause": Field.TEXT,
    "resolution": Field.TEXT,
    "customer_domain": Field.FLAG,
    "outcome": Field.TEXT,
}
NOT_SOLVED_FIELDS = {**TICKET_FIELDS, "reason": Field.TEXT}
ANSWER_FIELDS = {**TICKET_FIELDS, "answer": Field.TEXT}
ASK_IN_FIELDS = {**TICKET_FIELDS, "question": Field.TEXT}


class Action:
    """Action ids of ticket buttons."""

    CREATE = "ticket.create"
    TAKE = "ticket.take"
    RESPOND = "ticket.respond"
    PRIORITY = "ticket.priority"
    RESOLVE = "ticket.resolve"
    SOLVED = "ticket.solved"
    NOT_SOLVED = "ticket.not_solved"
    ANSWER = "ticket.answer"
    ASK_IN = "ticket.ask_in"


def _t(key: str, lang: str, **values: object) -> str:
    return i18n.t(key, lang, **values)


def staff_ticket(
    *,
    number: str,
    org: str,
    kind_label: str,
    priority_label: str,
    service: str | None,
    title: str,
    event: str,
    event_values: dict[str, object],
    lang: str,
) -> dict[str, Any]:
    """The staff space's card for a new ticket or a customer note, with the agent's buttons.

    `event` is the catalogue key of what happened, filled with `event_values` (as typed, like
    `org` and `title`); a title too long for a card is shortened and points to /ticket. What the
    customer typed shows no web address as a link.
    """

    def build(cut: Cut) -> dict[str, Any]:
        values = {k: cut(v) if isinstance(v, str) else v for k, v in event_values.items()}
        body = [
            text(card_markdown([(f"{number} · ", False), (org, True)]), weight="Bolder", size="Medium"),
            text(says(event, lang, links=False, number=number, **values), is_subtle=True),
            facts(
                [
                    (_t("form.field.kind", lang), kind_label),
                    (_t("form.field.priority", lang), priority_label),
                    (_t("form.field.service", lang), typed(service or "—")),
                    (_t("form.field.title", lang), typed(cut(title), links=False)),
                ]
            ),
            text_input("text", _t("form.label.response", lang), lang=lang, max_length=TEXT_MAX, multiline=True),
            choice_input(
                "priority",
                _t("form.label.set_priority", lang),
                [(p, p) for p in ("P1", "P2", "P3")],
                lang=lang,
                value="P3",
            ),
            text_input("reason", _t("form.label.reason", lang), lang=lang, max_length=TITLE_MAX),
        ]
        if cut.shortened:
            body.append(shortened(lang, where=f"/ticket {number}"))
        return card(
            body,
            [
                submit(_t("button.take", lang), Action.TAKE, ticket=number),
                submit(_t("button.respond", lang), Action.RESPOND, ticket=number),
                submit(_t("button.priority", lang), Action.PRIORITY, ticket=number),
            ],
        )

    return fit(build)


def resolve_form(*, number: str, kind: str, lang: str) -> dict[str, Any]:
    """Resolve an incident (cause, resolution, customer domain), propose a complaint's outcome, or record an outcome."""
    if kind == "incident":
        body = [
            text(_t("form.resolve.title", lang, number=number), weight="Bolder", size="Medium"),
            text_input(
                "cause", _t("form.label.cause", lang), lang=lang, required=True, max_length=TEXT_MAX, multiline=True
            ),
            text_input(
                "resolution",
                _t("form.label.resolution", lang),
                lang=lang,
                required=True,
                max_length=TEXT_MAX,
                multiline=True,
            ),
            {
                "type": "Input.Toggle",
                "id": "customer_domain",
                "title": _t("form.label.customer_domain", lang),
                "value": "false",
                "valueOn": "true",
                "valueOff": "false",
            },
        ]
    else:
        body = [
            text(_t("form.resolve.title", lang, number=number), weight="Bolder", size="Medium"),
            # A complaint closes only when the customer agrees: what is proposed here is asked.
            text_input(
                "outcome",
                _t("form.label.proposed_outcome" if kind == "complaint" else "form.label.outcome", lang),
                lang=lang,
                required=True,
                max_length=TEXT_MAX,
                multiline=True,
            ),
        ]
    return card(body, [submit(_t("form.submit", lang), Action.RESOLVE, ticket=number)])


def warning_card(*, number: str, org: str, text: str, lang: str) -> dict[str, Any]:
    """An SLA warning for the staff space (`text`: the bot's own words), with a button to take the ticket."""
    return card(
        [_line(card_markdown([(f"{number} · ", False), (org, True)]), bold=True), _line(text)],
        [submit(_t("button.take", lang), Action.TAKE, ticket=number)],
    )


def confirm_card(*, number: str, lang: str, agreement: bool = False) -> dict[str, Any]:
    """Asked when a ticket is resolved: solved, or not (with a reason); for a complaint (`agreement`),
    whether the customer agrees with its outcome, which is what closes it."""
    return card(
        [
            _line(
                _t("confirm.card.title.agree" if agreement else "confirm.card.title", lang, number=number), bold=True
            ),
            text_input(
                "reason",
                _t("confirm.card.reason.agree" if agreement else "confirm.card.reason", lang),
                lang=lang,
                max_length=TITLE_MAX,
            ),
        ],
        [
            submit(_t("button.agreed" if agreement else "button.solved", lang), Action.SOLVED, ticket=number),
            submit(
                _t("button.not_agreed" if agreement else "button.not_solved", lang), Action.NOT_SOLVED, ticket=number
            ),
        ],
    )


def ask_in_incident(*, number: str, question: str, lang: str) -> dict[str, Any]:
    """An RFI about an open incident is asked in the incident: the question (as typed, editable) and
    the button that adds it to the incident as a note; a question too long for a card is shortened
    and the card says so, to be checked before it is added."""

    def build(cut: Cut) -> dict[str, Any]:
        body = [
            _line(_t("form.ask_in.title", lang, number=number), bold=True),
            text_input(
                "question",
                _t("form.label.question", lang),
                lang=lang,
                required=True,
                max_length=TEXT_MAX,
                multiline=True,
                value=cut(question),
            ),
        ]
        if cut.shortened:
            body.append(shortened(lang, "card.shortened.form"))
        return card(body, [submit(_t("button.ask_in", lang, number=number), Action.ASK_IN, ticket=number)])

    return fit(build)


def question_card(*, number: str, agent: str, question: str, lang: str) -> dict[str, Any]:
    """An agent's question to the customer (`agent` and `question` as typed), with the answer field
    and Send (a press needs no mention of the bot); a question too long for a card is shortened and
    the card says the whole text is in the message above it (the question as a message)."""

    def build(cut: Cut) -> dict[str, Any]:
        body = [
            _line(says("form.question.title", lang, number=number, agent=agent), bold=True),
            _line(typed(cut(question))),
            text_input(
                "answer", _t("form.label.answer", lang), lang=lang, required=True, max_length=TEXT_MAX, multiline=True
            ),
            text(_t("form.question.paused", lang), is_subtle=True),
        ]
        if cut.shortened:
            body.append(shortened(lang, "card.shortened.above"))
        return card(body, [submit(_t("button.send", lang), Action.ANSWER, ticket=number)])

    return fit(build)


def _line(value: str, *, bold: bool = False) -> dict[str, Any]:
    return text(value, weight="Bolder" if bold else None)
