"""/help, /contact and /ping: what the asking person may do, how to reach the desk, and liveness."""

from __future__ import annotations

import re

from babel.dates import get_day_names

from bot import i18n
from rules import desk
from rules import sla
from rules.calendar import Calendar
from rules import Rules
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused, UnknownCommand
from bot.router import Args, Router
from bot.scheduler import TimerRegistry
from bot.text import escape_markdown


def help_command(ctx: Context, args: Args) -> None:
    """List the commands the asking person may use here (from the registry), or explain one."""
    if args.text.strip():
        ctx.reply(_one_command(ctx, args.text))
        return
    lines = [ctx.t("help.title")]
    for command in ctx.runtime.router.visible_to(ctx.actor.roles, ctx.space.kind):
        lines.append(ctx.t("help.line", usage=command.usage, summary=ctx.t(command.summary_key)))
    if ctx.space.room_type == "group":
        lines.append("")
        lines.append(ctx.t("help.footer", bot=ctx.runtime.webex.identity().display_name or "Bot"))
    ctx.reply("\n".join(lines))


def _one_command(ctx: Context, text: str) -> str:
    found = ctx.runtime.router.match(text)
    if found is None:
        raise UnknownCommand(command=escape_markdown(text.strip().split()[0][:40]))
    command, _ = found
    if command.roles and not ctx.actor.has_any(command.roles):
        raise Refused("help.needs_role", command=command.name, role=" or ".join(sorted(command.roles)))
    return ctx.t("help.one", usage=command.usage, summary=ctx.t(command.summary_key))


def contact(ctx: Context, args: Args) -> None:
    """The desk's phone, e-mail and portal, this organisation's own office hours, closed days and
    maintenance window, the out-of-hours rule and the escalation matrix."""
    args.none()
    profile = ctx.rules.profile(ctx.space.sla_profile) if ctx.space.sla_profile else None
    year = ctx.now().astimezone(AMSTERDAM).year
    ctx.reply(render_contact(ctx.rules.desk, ctx.lang, profile=profile, year=year, rules=ctx.rules))


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
        lines.append(i18n.t("contact.hours" if closed else "contact.hours.no_closed", lang, hours=office_hours(office, lang)))
        lines.append(i18n.t("contact.out_of_hours", lang, phone=desk.tel_link(info.phone)))
    if profile is not None and profile.maintenance_window:
        lines.append(i18n.t("contact.maintenance_window", lang, window=office_hours(rules.calendar(profile.maintenance_window), lang)))
    if closed:
        lines += ["", i18n.t("contact.closed.title", lang, year=year)]
        lines += [i18n.t("contact.closed.line", lang, day=i18n.day(day, lang), name=holiday_name(name, lang)) for day, name in closed]
    lines += ["", i18n.t("contact.escalation.title", lang)]
    for level in info.escalation:
        key = "contact.escalation.level_pin" if level.pin else "contact.escalation.level"
        lines.append(i18n.t(key, lang, level=level.level, role=level.role, name=level.name,
                            phone=desk.tel_link(level.phone), pin=level.pin or ""))
    return "\n".join(lines)


def holiday_name(name: str | None, lang: str) -> str:
    """A closed day's name in `lang` from the catalogues (holiday.<name>); the calendar's own name
    when they have none, "closed" for a date the calendar closes without a holiday."""
    if name is None:
        return i18n.t("holiday.closed_date", lang)
    key = "holiday." + re.sub(r"[^a-z0-9]+", "_", name.lower().replace("'", "")).strip("_")
    return i18n.t(key, lang) if key in i18n.keys(lang) else name


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


def ping(ctx: Context, args: Args) -> None:
    """Answer with the version and the time in Amsterdam."""
    local = ctx.now().astimezone(AMSTERDAM)
    ctx.reply(ctx.t("ping.reply", version=ctx.runtime.version, time=local.strftime("%H:%M %Z, %a %d %b %Y")))


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions and timers."""
    router.command("help", usage="/help [command]", summary="cmd.help")(help_command)
    router.command("contact", usage="/contact", summary="cmd.contact")(contact)
    router.command("ping", usage="/ping", summary="cmd.ping")(ping)
