"""The admin and space commands: parse, authorise (through the router), call a flow, reply."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot import i18n, spaces
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.events import JoinEvent, LeaveEvent
from bot.router import Args
from bot.security import ADMIN, GRANTABLE
from bot.text import escape_markdown
from cards import admin as admin_cards
from commands.admin.flows import bind
from rules import sla
from storage import directory
from storage.models.directory import SpaceRecord

ADMINS = frozenset({ADMIN})
ORG_NAME_MAX = 100
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def space_bind(ctx: Context, args: Args) -> None:
    """Link this group space to a customer organisation (offering to create it when new)."""
    name = _org_name(args.text, usage="/space bind <organisation>")
    org = directory.find_org(ctx.session, name=name)
    if org is None:
        profiles = [sla.DEFAULT_PROFILE, *sorted(p for p in ctx.rules.profiles if p != sla.DEFAULT_PROFILE)]
        ctx.reply(
            ctx.t("space.bind.confirm_new", org=escape_markdown(name)),
            card=admin_cards.bind_new_org(name=name, profiles=profiles, lang=ctx.lang),
        )
        return
    bind(ctx, org_name=name)


# The confirmation card is answered once: bound, or cancelled.
def space_bind_confirmed(ctx: Context, inputs: dict[str, Any]) -> str:
    """The confirmation card's button: create the organisation if still new, then bind."""
    name = _org_name(str(inputs.get("org", "")), usage="/space bind <organisation>")
    profile = str(inputs.get("sla_profile") or sla.DEFAULT_PROFILE)
    language = str(inputs.get("language") or i18n.DEFAULT_LANGUAGE)
    if profile not in ctx.rules.profiles:
        raise Refused(
            "space.bind.bad_profile", profile=escape_markdown(profile), known=", ".join(sorted(ctx.rules.profiles))
        )
    if language not in i18n.LANGUAGES:
        raise Refused("language.unknown", given=escape_markdown(language), known=", ".join(i18n.LANGUAGES))
    return escape_markdown(bind(ctx, org_name=name, create_profile=profile, create_language=language).name)


def space_bind_cancelled(ctx: Context, inputs: dict[str, Any]) -> None:
    """The confirmation card's cancel button."""
    ctx.reply(ctx.t("space.bind.cancelled"))


def space_unbind(ctx: Context, args: Args) -> None:
    """Make this space neither a customer space nor the staff space."""
    args.none()
    record = directory.space(ctx.session, room_id=ctx.space.room_id, for_update=True)
    if record is None or record.kind == "unbound":
        raise Refused("space.unbind.not_bound")
    was = _describe(ctx, record)
    directory.set_space_kind(
        ctx.session,
        room_id=ctx.space.room_id,
        room_type=ctx.space.room_type,
        kind="unbound",
        org=None,
        actor=ctx.actor.email,
        now=ctx.now(),
    )
    ctx.reply(ctx.t("space.unbind.done", was=was))


def space_staff(ctx: Context, args: Args) -> None:
    """Mark this group space as the staff space (there is one; the previous one is unmarked)."""
    args.none()
    record = directory.space(ctx.session, room_id=ctx.space.room_id, for_update=True)
    if record is not None and record.kind == "staff":
        raise Refused("space.staff.already")
    if record is not None and record.kind == "customer":
        raise Refused("space.staff.is_customer", org=escape_markdown(ctx.space.org_name or ""))
    previous = [s for s in directory.staff_spaces(ctx.session) if s.room_id != ctx.space.room_id]
    for old in previous:
        directory.set_space_kind(
            ctx.session,
            room_id=old.room_id,
            room_type=old.room_type,
            kind="unbound",
            org=None,
            actor=ctx.actor.email,
            now=ctx.now(),
        )
    directory.set_space_kind(
        ctx.session,
        room_id=ctx.space.room_id,
        room_type=ctx.space.room_type,
        kind="staff",
        org=None,
        actor=ctx.actor.email,
        now=ctx.now(),
    )
    ctx.reply(ctx.t("space.staff.moved" if previous else "space.staff.done"))


def space_info(ctx: Context, args: Args) -> None:
    """What this space is to the desk: customer space of which org, staff space, or unbound."""
    args.none()
    record = directory.space(ctx.session, room_id=ctx.space.room_id)
    lines = [ctx.t("space.info.title"), ctx.t("space.info.kind", kind=_describe(ctx, record))]
    if ctx.space.kind == "customer":
        lines.append(ctx.t("space.info.profile", profile=ctx.space.sla_profile or sla.DEFAULT_PROFILE))
    state = record.state if record is not None else directory.ACTIVE
    since = record.state_changed_at if record is not None else None
    lines.append(ctx.t(f"space.info.state.{state}", since=i18n.when(since, ctx.lang, AMSTERDAM) if since else ""))
    lines.append(ctx.t("space.info.language", language=ctx.t(f"language.name.{ctx.lang}")))
    ctx.reply("\n".join(lines))


def role_grant(ctx: Context, args: Args) -> None:
    """Give a person a staff role."""
    email, role = _email_and_role(args, usage="/role grant <email> <role>")
    if not directory.grant_role(
        ctx.session, email=email, role=role, actor=ctx.actor.email, room_id=ctx.space.room_id, now=ctx.now()
    ):
        raise Refused("role.grant.already", email=escape_markdown(email), role=role)
    ctx.reply(ctx.t("role.grant.done", email=escape_markdown(email), role=role))


def role_revoke(ctx: Context, args: Args) -> None:
    """Take a staff role away; it stops working from the person's next command."""
    email, role = _email_and_role(args, usage="/role revoke <email> <role>")
    if not directory.revoke_role(
        ctx.session, email=email, role=role, actor=ctx.actor.email, room_id=ctx.space.room_id, now=ctx.now()
    ):
        if role == ADMIN and email in ctx.runtime.settings.bot_admins:
            raise Refused("role.revoke.configured", email=escape_markdown(email))
        raise Refused("role.revoke.not_held", email=escape_markdown(email), role=role)
    ctx.reply(ctx.t("role.revoke.done", email=escape_markdown(email), role=role))


def roles_list(ctx: Context, args: Args) -> None:
    """Who holds which staff role (grants and the admins from configuration)."""
    args.none()
    holders: dict[str, set[str]] = {}
    for grant in directory.active_grants(ctx.session):
        holders.setdefault(grant.email, set()).add(grant.role)
    lines = [ctx.t("roles.title")]
    for email in sorted(set(holders) | set(ctx.runtime.settings.bot_admins)):
        roles = sorted(holders.get(email, set()))
        configured = email in ctx.runtime.settings.bot_admins
        shown = ", ".join(roles + ([ctx.t("roles.configured_admin")] if configured and ADMIN not in roles else []))
        lines.append(ctx.t("roles.line", email=escape_markdown(email), roles=shown))
    if len(lines) == 1:
        lines.append(ctx.t("roles.none"))
    ctx.reply("\n".join(lines))


def language(ctx: Context, args: Args) -> None:
    """Set the bot's language: for this space, or in a 1:1 for you (also your pages)."""
    words = args.words
    if len(words) != 1:
        raise Refused("language.usage", usage="/language en|nl")
    chosen = words[0].lower()
    if chosen not in i18n.LANGUAGES:
        raise Refused("language.unknown", given=escape_markdown(words[0][:20]), known=", ".join(i18n.LANGUAGES))
    if ctx.space.room_type == "direct":
        directory.set_person_language(ctx.session, email=ctx.actor.email, language=chosen, now=ctx.now())
        ctx.lang = chosen
        ctx.reply(ctx.t("language.person.done", language=ctx.t(f"language.name.{chosen}")))
        return
    directory.set_space_language(
        ctx.session,
        room_id=ctx.space.room_id,
        room_type=ctx.space.room_type,
        language=chosen,
        actor=ctx.actor.email,
        now=ctx.now(),
    )
    ctx.lang = chosen
    ctx.reply(ctx.t("language.space.done", language=ctx.t(f"language.name.{chosen}")))


def introduce(ctx: Context) -> None:
    """The bot was added to a space: say who it is and, when the space is unbound, how to bind it;
    a space it had been removed from is active again, and the introduction says so."""
    if ctx.space.room_type == "direct":
        ctx.reply(ctx.t("join.direct"))
        return
    previous = spaces.joined(
        ctx.session,
        room_id=ctx.space.room_id,
        room_type=ctx.space.room_type,
        since=_membership_began(ctx),
        now=ctx.now(),
        admins=ctx.runtime.settings.bot_admins,
    )
    if previous is None:
        return  # a late delivery of an older join: the space has heard from the bot since
    lines = [ctx.t("join.hello")]
    if previous != directory.ACTIVE and ctx.space.kind in ("customer", "staff"):
        lines.append(
            ctx.t("join.back.staff")
            if ctx.space.kind == "staff"
            else ctx.t("join.back.customer", org=escape_markdown(ctx.space.org_name or ""))
        )
    if ctx.space.kind == "unbound":
        lines.append(ctx.t("join.unbound", bot=ctx.runtime.webex.identity().display_name or "Bot"))
    ctx.reply("\n\n".join(lines))


def farewell(ctx: Context) -> None:
    """The bot was removed from a space: suspend it and tell the staff (nothing can be said there any more)."""
    if ctx.space.room_type != "direct":
        spaces.removed(
            ctx.session,
            room_id=ctx.space.room_id,
            room_type=ctx.space.room_type,
            since=_membership_began(ctx),
            now=ctx.now(),
            admins=ctx.runtime.settings.bot_admins,
        )


def _membership_began(ctx: Context) -> datetime | None:
    """When the bot's membership began, for the join and leave events that carry it."""
    return ctx.event.created if isinstance(ctx.event, (JoinEvent, LeaveEvent)) else None


def _describe(ctx: Context, record: SpaceRecord | None) -> str:
    if record is None or record.kind == "unbound":
        return ctx.t("space.kind.unbound")
    if record.kind == "staff":
        return ctx.t("space.kind.staff")
    org = directory.org_by_id(ctx.session, org_id=record.org_id) if record.org_id else None
    return ctx.t("space.info.customer_of", org=escape_markdown(org.name if org else "?"))


def _org_name(text: str, *, usage: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise Refused("space.bind.usage", usage=usage)
    if len(name) > ORG_NAME_MAX:
        raise Refused("space.bind.too_long", limit=ORG_NAME_MAX, length=len(name))
    if any(ord(ch) < 32 for ch in name) or "<" in name or ">" in name:
        raise Refused("space.bind.bad_name")
    return name


def _email_and_role(args: Args, *, usage: str) -> tuple[str, str]:
    words = args.words
    if len(words) != 2:
        raise Refused("role.usage", usage=usage, roles=", ".join(GRANTABLE))
    email, role = words[0].lower(), words[1].lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise Refused("role.bad_email", email=escape_markdown(words[0][:80]))
    if role not in GRANTABLE:
        raise Refused("role.unknown", role=escape_markdown(words[1][:40]), roles=", ".join(GRANTABLE))
    return email, role
