"""/oncall: who is on call, and the rota, swaps and shifts the agents keep."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import i18n, parse
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.router import Args
from bot.text import escape_markdown
from commands.common.oncall import get_team, order_at
from storage.models.operations import OnCallShift, OnCallTeam

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_TEAM = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def oncall(ctx: Context, args: Args) -> None:
    """Who is on call now, and who is next."""
    team = get_team(ctx.session, args.text.strip().lower() or None, rules=ctx.rules)
    if team is None:
        raise Refused("oncall.no_team", team=escape_markdown(args.text.strip() or ctx.rules.desk.paging_team))
    order = order_at(ctx.session, team, ctx.now())
    if not order:
        raise Refused("oncall.empty", team=team.name)
    ctx.reply(
        ctx.t(
            "oncall.now",
            team=team.name,
            now=escape_markdown(order[0]),
            next=escape_markdown(order[1]) if len(order) > 1 else "—",
            minutes=team.repage_minutes,
            pages=team.pages_per_engineer,
        )
    )


def oncall_set(ctx: Context, args: Args) -> None:
    """Set a team's rota, in paging order, and optionally how patiently it is paged."""
    words = args.words
    options = {w.split("=", 1)[0].lower(): w.split("=", 1)[1] for w in words if "=" in w}
    words = [w for w in words if "=" not in w]
    if len(words) < 2 or set(options) - {"repage", "pages"}:
        raise Refused("oncall.set.usage", usage=args.usage)
    name, emails = words[0].lower(), [w.lower() for w in words[1:]]
    if not _TEAM.match(name):
        raise Refused("oncall.bad_team", team=escape_markdown(words[0][:40]))
    bad = [e for e in emails if not _EMAIL.match(e)]
    if bad or len(emails) > 20 or len(set(emails)) != len(emails):
        raise Refused("oncall.bad_emails", emails=escape_markdown(", ".join(bad) or ", ".join(emails)))
    _require_webex_accounts(ctx, emails)
    try:
        repage = int(options.get("repage", ctx.rules.desk.repage_minutes))
        pages = int(options.get("pages", ctx.rules.desk.pages_per_engineer))
    except ValueError:
        raise Refused("oncall.bad_patience") from None
    if not (1 <= repage <= 120 and 1 <= pages <= 10):
        raise Refused("oncall.bad_patience")
    team = ctx.session.get(OnCallTeam, name)
    old = {"rota": list(team.rota), "repage": team.repage_minutes, "pages": team.pages_per_engineer} if team else {}
    if team is None:
        team = OnCallTeam(name=name, rota=emails, repage_minutes=repage, pages_per_engineer=pages)
        ctx.session.add(team)
    else:
        team.rota = emails
        if "repage" in options:
            team.repage_minutes = repage
        if "pages" in options:
            team.pages_per_engineer = pages
    ctx.audit(
        subject_type="oncall",
        subject=name,
        action="rota set",
        old=old or None,
        new={"rota": emails, "repage": team.repage_minutes, "pages": team.pages_per_engineer},
    )
    ctx.reply(
        ctx.t(
            "oncall.set.done",
            team=name,
            rota=escape_markdown(", ".join(emails)),
            minutes=team.repage_minutes,
            pages=team.pages_per_engineer,
        )
    )


def _require_webex_accounts(ctx: Context, emails: list[str]) -> None:
    """Refuse addresses Webex has no person for: a page to them could never be delivered."""
    unknown = [e for e in emails if ctx.runtime.webex.find_person(e) is None]
    if unknown:
        raise Refused("oncall.unknown_people", emails=escape_markdown(", ".join(unknown)))


def oncall_swap(ctx: Context, args: Args) -> None:
    """`email` takes over now (until the next planned shift starts)."""
    words = args.words
    if not words or not _EMAIL.match(words[0]):
        raise Refused("oncall.swap.usage", usage=args.usage)
    team = get_team(ctx.session, words[1].lower() if len(words) > 1 else None, rules=ctx.rules)
    if team is None:
        raise Refused(
            "oncall.no_team", team=escape_markdown(words[1] if len(words) > 1 else ctx.rules.desk.paging_team)
        )
    _require_webex_accounts(ctx, [words[0].lower()])
    now = ctx.now()
    upcoming = ctx.session.scalars(
        select(OnCallShift)
        .where(OnCallShift.team == team.name, OnCallShift.starts_at > now)
        .order_by(OnCallShift.starts_at)
    ).first()
    ctx.session.add(
        OnCallShift(
            team=team.name,
            email=words[0].lower(),
            starts_at=now,
            ends_at=upcoming.starts_at if upcoming else None,
            created_by=ctx.actor.email,
        )
    )
    ctx.audit(
        subject_type="oncall",
        subject=team.name,
        action="swap",
        new={"email": words[0].lower()},
        at=now,
    )
    ctx.reply(ctx.t("oncall.swap.done", team=team.name, email=escape_markdown(words[0].lower())))


def oncall_shift(ctx: Context, args: Args) -> None:
    """Plan a shift: from and to as 2026-12-24T18:00 (Amsterdam time)."""
    words = args.words
    if len(words) != 4 or not _EMAIL.match(words[3]):
        raise Refused("oncall.shift.usage", usage=args.usage)
    team = get_team(ctx.session, words[0].lower(), rules=ctx.rules)
    if team is None:
        raise Refused("oncall.no_team", team=escape_markdown(words[0][:40]))
    today = ctx.now().astimezone(AMSTERDAM).date()
    start = parse.local_instant(words[1], field="input.field.start", today=today)
    end = parse.local_instant(words[2], field="input.field.end", today=today)
    if end <= start:
        raise Refused("oncall.shift.order")
    _require_webex_accounts(ctx, [words[3].lower()])
    ctx.session.add(
        OnCallShift(team=team.name, email=words[3].lower(), starts_at=start, ends_at=end, created_by=ctx.actor.email)
    )
    ctx.audit(
        subject_type="oncall",
        subject=team.name,
        action="shift",
        new={"email": words[3].lower(), "from": start.isoformat(), "to": end.isoformat()},
    )
    ctx.reply(
        ctx.t(
            "oncall.shift.done",
            team=team.name,
            email=escape_markdown(words[3].lower()),
            start=i18n.when(start, ctx.lang, AMSTERDAM),
            end=i18n.when(end, ctx.lang, AMSTERDAM),
        )
    )
