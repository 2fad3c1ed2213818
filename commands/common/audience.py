"""Who gets notices about services, and the service codes and inline fields staff type: shared by
maintenance, disruptions and problems."""

from __future__ import annotations

import shlex

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.errors import Refused
from bot.text import escape_markdown
from rules import Rules
from storage import directory
from storage.models.directory import SpaceRecord
from storage.models.operations import Subscription


def service_codes(words: list[str], ctx: Context) -> list[str]:
    """The desk's service codes the words name (comma-separated too), each once; refuses an unknown one."""
    codes: list[str] = []
    for word in words:
        for part in word.split(","):
            if not part:
                continue
            service = ctx.rules.desk.service(part)
            if service is None:
                raise Refused(
                    "mnt.unknown_service",
                    service=escape_markdown(part[:40]),
                    known=", ".join(s.code for s in ctx.rules.desk.services),
                )
            if service.code not in codes:
                codes.append(service.code)
    return codes


def audience(session: Session, services: list[str], *, reachable_only: bool = True, rules: Rules) -> list[str]:
    """Customer spaces that get notices about `services`: subscribers, and spaces without subscriptions;
    not those the bot cannot post in now (removed from, or refused there) unless `reachable_only` is off."""
    query = select(SpaceRecord.room_id).where(SpaceRecord.kind == "customer")
    if reachable_only:
        query = query.where(SpaceRecord.state == directory.ACTIVE)
    spaces = session.scalars(query.order_by(SpaceRecord.room_id)).all()
    subs: dict[str, set[str]] = {}
    for room_id, service in session.execute(select(Subscription.room_id, Subscription.service)):
        subs.setdefault(room_id, set()).add(service)
    everything = rules.desk.unsubscribed_notices == "all"
    return [r for r in spaces if (r not in subs and everything) or subs.get(r, set()) & set(services)]


def inline_fields(text: str) -> dict[str, str]:
    """`key=value` words (quoted values may hold spaces) as a form's inputs."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise Refused("mnt.error.quotes") from None
    fields = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise Refused("mnt.error.field", word=escape_markdown(word[:40]))
        fields[key.lower()] = value
    return fields
