"""Cards of the admin commands."""

from __future__ import annotations

from typing import Any

from bot import i18n
from bot.fields import Field
from cards.common import card, choice, says, submit, text

# What the binding card submits: router.card_action's `fields`.
BIND_FIELDS = {"org": Field.TEXT, "sla_profile": Field.TEXT, "language": Field.TEXT}


class Action:
    """Action ids of admin buttons."""

    BIND_CONFIRM = "space.bind.confirm"
    BIND_CANCEL = "space.bind.cancel"


def bind_new_org(*, name: str, profiles: list[str], lang: str) -> dict[str, Any]:
    """Confirm creating organisation `name` (with its SLA profile and language) and binding this space."""
    return card(
        [
            text(i18n.t("space.bind.card.title", lang), weight="Bolder", size="Medium"),
            text(says("space.bind.card.body", lang, org=name)),
            *choice(
                "sla_profile", i18n.t("space.bind.card.profile", lang), [(p, p) for p in profiles], value=profiles[0]
            ),
            *choice(
                "language",
                i18n.t("space.bind.card.language", lang),
                [(i18n.t("language.name.en", lang), "en"), (i18n.t("language.name.nl", lang), "nl")],
                value=lang,
            ),
        ],
        [
            submit(i18n.t("space.bind.card.confirm", lang), Action.BIND_CONFIRM, org=name),
            submit(i18n.t("space.bind.card.cancel", lang), Action.BIND_CANCEL, org=name),
        ],
    )
