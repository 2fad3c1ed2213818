"""Intake forms: the form of a new incident, RFC, RFI or complaint, and the server's check of it.

Forms use Adaptive Cards 1.3 input validation (`isRequired`, `label`, `errorMessage`,
`maxLength`); the server checks the same rules again with `validate_intake`, because a card
submission can be replayed or forged, and answers with the form's own error texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot import i18n, parse
from bot.fields import Field
from bot.text import visible
from cards.common import Cut, card, choice_input, fit, shortened, submit, text, text_input
from cards.tickets import NAME_MAX, TEXT_MAX, TITLE_MAX, Action
from rules import sla

PRIORITIES = ("P3", "P2", "P1")
# The most connections or devices an incident can affect: more than any customer has.
IMPACT_MAX = 100_000_000
_IMPACT_TEXT = re.compile(r"[0-9]{1,9}")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,25}$")
_NUMBER = re.compile(r"^(INC|RFC|RFI|CMP)-\d{1,9}$", re.IGNORECASE)
# The prefilled fields a form may shorten to fit a card.
_FREE_TEXT = ("title", "description")


# What each form submits, by input id (and button data key), with its type: router.card_action's `fields`.
INTAKE_FIELDS = {
    "kind": Field.TEXT,
    "service": Field.TEXT,
    "title": Field.TEXT,
    "description": Field.TEXT,
    "impact": Field.NUMBER,
    "priority": Field.TEXT,
    "contact_name": Field.TEXT,
    "phone": Field.TEXT,
    "email": Field.TEXT,
    "watchers": Field.TEXT,
    "roaming": Field.FLAG,
    "reference": Field.TEXT,
    "rfc_type": Field.TEXT,
    "desired_date": Field.TEXT,
    # Set by "report it anyway" on the answer to an incident during maintenance.
    "despite_maintenance": Field.TEXT,
}


def _t(key: str, lang: str, **values: object) -> str:
    return i18n.t(key, lang, **values)


# The change types of a profile that lists none: the guide's two.
DEFAULT_RFC_TYPES = tuple(t.id for t in sla.DEFAULT_RFC_TYPES)


def intake_form(
    kind: str,
    *,
    lang: str,
    services: list[tuple[str, str]],
    prefill: dict[str, str],
    rfc_types: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The form of a new incident, RFC, RFI or complaint, prefilled with what is known (as typed).

    `rfc_types`: the (title, id) of each change type the customer's profile offers, in order.
    """
    return fit(
        lambda cut: _intake_form(
            kind,
            lang=lang,
            services=services,
            cut=cut,
            rfc_types=rfc_types,
            prefill={k: cut(v) if k in _FREE_TEXT else v for k, v in prefill.items()},
        )
    )


def _intake_form(
    kind: str,
    *,
    lang: str,
    services: list[tuple[str, str]],
    prefill: dict[str, str],
    cut: Cut,
    rfc_types: list[tuple[str, str]] | None,
) -> dict[str, Any]:
    body: list[dict[str, Any]] = [text(_t(f"form.{kind}.title", lang), weight="Bolder", size="Medium")]
    if cut.shortened:
        body.append(shortened(lang, "card.shortened.form"))
    service_field = choice_input(
        "service", _t("form.label.service", lang), services, lang=lang, value=prefill.get("service"), required=True
    )
    if kind == "incident":
        body += [
            service_field,
            text_input("title", _t("form.label.title", lang), lang=lang, required=True, value=prefill.get("title")),
            text_input(
                "description",
                _t("form.label.description", lang),
                lang=lang,
                max_length=TEXT_MAX,
                multiline=True,
                value=prefill.get("description"),
            ),
            # No "min": the Adaptive Cards web renderer then refuses an empty (optional) field. The
            # count is checked when the form comes back (validate_intake).
            {
                "type": "Input.Number",
                "id": "impact",
                "label": _t("form.label.impact", lang),
                **({"value": int(prefill["impact"])} if _IMPACT_TEXT.fullmatch(prefill.get("impact", "")) else {}),
            },
            choice_input(
                "priority",
                _t("form.label.priority", lang),
                [(_t(f"form.priority.{p}", lang), p) for p in PRIORITIES],
                lang=lang,
                value=prefill.get("priority", "P3"),
            ),
            text_input(
                "contact_name",
                _t("form.label.contact_name", lang),
                lang=lang,
                required=True,
                max_length=NAME_MAX,
                value=prefill.get("contact_name"),
            ),
            text_input("phone", _t("form.label.phone", lang), lang=lang, max_length=25, value=prefill.get("phone")),
            text_input(
                "email",
                _t("form.label.email", lang),
                lang=lang,
                required=True,
                max_length=320,
                value=prefill.get("email"),
            ),
            text_input(
                "watchers", _t("form.label.watchers", lang), lang=lang, max_length=1000, value=prefill.get("watchers")
            ),
            {
                "type": "Input.Toggle",
                "id": "roaming",
                "title": _t("form.label.roaming", lang),
                "value": prefill.get("roaming", "false"),
                "valueOn": "true",
                "valueOff": "false",
            },
            text_input(
                "reference",
                _t("form.label.reference", lang),
                lang=lang,
                max_length=16,
                value=prefill.get("reference"),
                placeholder="INC-1001",
            ),
        ]
    elif kind == "rfc":
        types = rfc_types or [(_t(f"form.rfc_type.{t.replace('-', '_')}", lang), t) for t in DEFAULT_RFC_TYPES]
        chosen = prefill.get("rfc_type")
        body += [
            choice_input(
                "rfc_type",
                _t("form.label.rfc_type", lang),
                types,
                lang=lang,
                value=chosen if chosen in [v for _, v in types] else types[0][1],
            ),
            service_field,
            text_input("title", _t("form.label.title", lang), lang=lang, required=True, value=prefill.get("title")),
            text_input(
                "description",
                _t("form.label.description", lang),
                lang=lang,
                required=True,
                max_length=TEXT_MAX,
                multiline=True,
                value=prefill.get("description"),
            ),
            {
                "type": "Input.Date",
                "id": "desired_date",
                "label": _t("form.label.desired_date", lang),
                **({"value": prefill["desired_date"]} if prefill.get("desired_date") else {}),
            },
            text_input(
                "reference",
                _t("form.label.reference", lang),
                lang=lang,
                max_length=16,
                value=prefill.get("reference"),
                placeholder="INC-1001",
            ),
        ]
    elif kind == "rfi":
        body += [
            service_field,
            text_input(
                "title",
                _t("form.label.question", lang),
                lang=lang,
                required=True,
                max_length=TEXT_MAX,
                multiline=True,
                value=prefill.get("title"),
            ),
            text_input(
                "reference",
                _t("form.label.reference", lang),
                lang=lang,
                max_length=16,
                value=prefill.get("reference"),
                placeholder="INC-1001",
            ),
        ]
    else:
        body += [
            text_input(
                "title",
                _t("form.label.complaint", lang),
                lang=lang,
                required=True,
                max_length=TEXT_MAX,
                multiline=True,
                value=prefill.get("title"),
            ),
            text_input(
                "reference",
                _t("form.label.reference", lang),
                lang=lang,
                max_length=16,
                value=prefill.get("reference"),
                placeholder="INC-1001",
            ),
        ]
    return card(body, [submit(_t("form.submit", lang), Action.CREATE, kind=kind)])


@dataclass
class Intake:
    """A checked intake: the ticket's fields, or the errors to show."""

    fields: dict[str, Any]
    errors: list[str]


def validate_intake(
    kind: str, inputs: dict[str, Any], *, lang: str, services: list[str], rfc_types: list[str] | None = None
) -> Intake:
    """Check a form submission (or inline fields) the same way the card does, and more.

    `rfc_types`: the ids of the change types the customer's profile offers (the first is the default).
    """
    errors: list[str] = []
    fields: dict[str, Any] = {}

    def value(key: str) -> str:
        # Without invisible characters: a title of zero-width spaces is no title, and none is stored.
        raw = inputs.get(key)
        return visible(str(raw)).strip() if raw is not None else ""

    def need(key: str, limit: int) -> str:
        got = value(key)
        if not got:
            errors.append(_t(f"form.error.{key}", lang))
        elif len(got) > limit:
            errors.append(
                _t("form.error.too_long", lang, field=_t(f"form.field.{key}", lang), limit=limit, length=len(got))
            )
        return got

    def optional(key: str, limit: int) -> str | None:
        got = value(key)
        if len(got) > limit:
            errors.append(
                _t("form.error.too_long", lang, field=_t(f"form.field.{key}", lang), limit=limit, length=len(got))
            )
        return got or None

    if kind in ("incident", "rfc", "rfi"):
        service = value("service")
        match = next((s for s in services if s.lower() == service.lower()), None)
        if match is None:
            errors.append(_t("form.error.service", lang))
        fields["service"] = match
    title_limit = TITLE_MAX if kind in ("incident", "rfc") else TEXT_MAX
    fields["title"] = need("title", title_limit)
    if kind == "incident":
        fields["description"] = optional("description", TEXT_MAX)
        fields["impact"] = None
        if value("impact"):
            try:
                fields["impact"] = parse.whole_number(
                    inputs["impact"], field="form.label.impact", low=0, high=IMPACT_MAX
                )
            except parse.BadInput as exc:
                errors.append(exc.render(lang))
        priority = (value("priority") or "P3").upper()
        if priority not in PRIORITIES:
            errors.append(_t("form.error.priority", lang))
        fields["requested_priority"] = priority
        fields["contact_name"] = need("contact_name", NAME_MAX)
        phone = optional("phone", 25)
        if phone and not valid_phone(phone):
            errors.append(_t("form.error.phone", lang))
        elif not phone and priority == "P1":
            errors.append(_t("form.error.phone_p1", lang))  # the desk calls a P1 back
        fields["phone"] = phone
        email = need("email", 320)
        if email and not _EMAIL.match(email):
            errors.append(_t("form.error.email", lang))
        fields["email"] = email.lower()
        watchers = [w.strip().lower() for w in re.split(r"[,;\s]+", value("watchers")) if w.strip()]
        if any(not _EMAIL.match(w) for w in watchers) or len(watchers) > 20:
            errors.append(_t("form.error.watchers", lang))
        fields["watchers"] = watchers
        roaming = value("roaming").lower() or "false"
        if roaming not in ("true", "false"):
            errors.append(_t("form.error.roaming", lang))
        fields["roaming"] = roaming == "true"
    elif kind == "rfc":
        offered = list(rfc_types or DEFAULT_RFC_TYPES)
        rfc_type = value("rfc_type").lower() or offered[0]
        if rfc_type not in offered:
            errors.append(_t("form.error.rfc_type", lang, types=", ".join(offered)))
        fields["rfc_type"] = rfc_type
        fields["description"] = need("description", TEXT_MAX)
        desired = value("desired_date")
        if desired:
            try:
                fields["desired_date"] = parse.local_date(desired, field="form.label.desired_date").isoformat()
            except parse.BadInput as exc:
                errors.append(exc.render(lang))
    if True:  # every kind may refer to an earlier ticket (an RFI about a closed incident, a follow-up)
        reference = value("reference")
        if reference and not _NUMBER.match(reference):
            errors.append(_t("form.error.reference", lang))
        fields["reference"] = reference.upper() or None
    return Intake(fields=fields, errors=errors)


def valid_phone(text: str) -> bool:
    """Whether `text` looks like a phone number (+31 6 1234 5678, 020-1234567)."""
    return bool(_PHONE.match(text))
