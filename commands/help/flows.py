"""The /contact answer: the desk's ways in, office hours and closed days, and the escalation matrix."""

from __future__ import annotations

import re

from bot import i18n
from commands.common.office_hours import office_hours
from rules import Rules, desk, sla


def render_contact(info: desk.Desk, lang: str, *, profile: sla.Profile | None = None, year: int, rules: Rules) -> str:
    """The /contact answer in `lang`: the office hours and closed days of `year` are the profile's
    (the desk's without one)."""
    office = rules.office_calendar(profile.office_hours if profile else None)
    closed = office.closed_days(year)
    lines = [
        f"**{info.name}**",
        i18n.t("contact.phone", lang, phone=desk.tel_link(info.phone)),
        i18n.t("contact.email", lang, email=info.email),
        i18n.t("contact.portal", lang, portal=info.portal),
    ]
    if office.always_open(year):
        lines.append(i18n.t("contact.hours.always", lang))
    else:
        lines.append(
            i18n.t("contact.hours" if closed else "contact.hours.no_closed", lang, hours=office_hours(office, lang))
        )
        lines.append(i18n.t("contact.out_of_hours", lang, phone=desk.tel_link(info.phone)))
    if profile is not None and profile.maintenance_window:
        lines.append(
            i18n.t(
                "contact.maintenance_window",
                lang,
                window=office_hours(rules.calendar(profile.maintenance_window), lang),
            )
        )
    if closed:
        lines += ["", i18n.t("contact.closed.title", lang, year=year)]
        lines += [
            i18n.t("contact.closed.line", lang, day=i18n.day(day, lang), name=holiday_name(name, lang))
            for day, name in closed
        ]
    lines += ["", i18n.t("contact.escalation.title", lang)]
    for level in info.escalation:
        key = "contact.escalation.level_pin" if level.pin else "contact.escalation.level"
        lines.append(
            i18n.t(
                key,
                lang,
                level=level.level,
                role=level.role,
                name=level.name,
                phone=desk.tel_link(level.phone),
                pin=level.pin or "",
            )
        )
    return "\n".join(lines)


def holiday_name(name: str | None, lang: str) -> str:
    """A closed day's name in `lang` from the catalogues (holiday.<name>); the calendar's own name
    when they have none, "closed" for a date the calendar closes without a holiday."""
    if name is None:
        return i18n.t("holiday.closed_date", lang)
    key = "holiday." + re.sub(r"[^a-z0-9]+", "_", name.lower().replace("'", "")).strip("_")
    return i18n.t(key, lang) if key in i18n.keys(lang) else name
