"""A calendar's weekly hours in words, as /contact and the maintenance window refusal show them."""

from __future__ import annotations

from babel.dates import get_day_names

from bot import i18n
from rules.calendar import Calendar


def office_hours(calendar: Calendar, lang: str) -> str:
    """A calendar's weekly windows in words: 'Mon–Fri 08:00–18:00'; days with equal hours grouped,
    'every day 00:00–07:00' when all seven are alike."""
    names = get_day_names("abbreviated", locale=lang)
    groups: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
    for day, windows in enumerate(calendar.weekly):
        if groups and groups[-1][2] == windows and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, windows)
        else:
            groups.append((day, day, windows))
    parts = []
    for first, last, windows in groups:
        if not windows:
            continue
        if (first, last) == (0, 6):
            days = i18n.t("contact.every_day", lang)
        else:
            days = names[first] if first == last else f"{names[first]}–{names[last]}"
        hours = ", ".join(f"{_clock(s)}–{_clock(e)}" for s, e in windows)
        parts.append(f"{days} {hours}")
    return "; ".join(parts)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
