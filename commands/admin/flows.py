"""Binding a space to an organisation: the flow the /space bind command and its confirmation card share."""

from __future__ import annotations

from bot import i18n
from bot.context import Context
from bot.errors import Refused
from bot.text import escape_markdown
from storage import directory
from storage.models.directory import Organisation


def bind(
    ctx: Context, *, org_name: str, create_profile: str | None = None, create_language: str | None = None
) -> Organisation:
    """Bind the current space to `org_name` (returned); creates the org when `create_profile` is given and it is new."""
    record = directory.space(ctx.session, room_id=ctx.space.room_id, for_update=True)
    org = directory.find_org(ctx.session, name=org_name)
    if record is not None and record.kind == "staff":
        raise Refused("space.bind.is_staff")
    if record is not None and record.kind == "customer":
        current = directory.org_by_id(ctx.session, org_id=record.org_id) if record.org_id else None
        if current is not None and org is not None and current.id == org.id:
            raise Refused("space.bind.already", org=escape_markdown(current.name))
        raise Refused("space.bind.other", org=escape_markdown(current.name if current else ""))
    created = False
    if org is None:
        if create_profile is None:
            raise Refused("space.bind.unknown_org", org=escape_markdown(org_name))
        org = directory.create_org(
            ctx.session,
            name=org_name,
            actor=ctx.actor.email,
            room_id=ctx.space.room_id,
            now=ctx.now(),
            sla_profile=create_profile,
            language=create_language or i18n.DEFAULT_LANGUAGE,
        )
        created = True
    directory.set_space_kind(
        ctx.session,
        room_id=ctx.space.room_id,
        room_type=ctx.space.room_type,
        kind="customer",
        org=org,
        actor=ctx.actor.email,
        now=ctx.now(),
    )
    if record is None or record.language is None:
        ctx.lang = org.language
    key = "space.bind.done_new" if created else "space.bind.done"
    ctx.reply(ctx.t(key, org=escape_markdown(org.name), profile=org.sla_profile))
    return org
