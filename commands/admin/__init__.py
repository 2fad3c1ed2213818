"""Admin and space commands: bind spaces to organisations, mark the staff space, grant roles, set languages.

Handlers parse and authorise (through the router); the flows do the work, so a text command and
its card button share one path. Every change lands on the audit timeline.
"""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from bot.security import ANYWHERE, GROUP_SPACES, IN_DIRECT, IN_STAFF, STAFF_ROLES
from cards import admin as admin_cards
from commands.admin.handlers import (
    ADMINS,
    farewell,
    introduce,
    language,
    role_grant,
    role_revoke,
    roles_list,
    space_bind,
    space_bind_cancelled,
    space_bind_confirmed,
    space_info,
    space_staff,
    space_unbind,
)


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions and timers."""
    router.command("space bind", roles=ADMINS, spaces=GROUP_SPACES, usage="/space bind <organisation>")(space_bind)
    router.card_action(
        admin_cards.Action.BIND_CONFIRM, fields=admin_cards.BIND_FIELDS, roles=ADMINS, spaces=GROUP_SPACES, once=True
    )(space_bind_confirmed)
    router.card_action(
        admin_cards.Action.BIND_CANCEL, fields=admin_cards.BIND_FIELDS, roles=ADMINS, spaces=GROUP_SPACES, once=True
    )(space_bind_cancelled)
    router.command("space unbind", roles=ADMINS, spaces=GROUP_SPACES, usage="/space unbind")(space_unbind)
    router.command("space staff", roles=ADMINS, spaces=GROUP_SPACES, usage="/space staff")(space_staff)
    router.command("space info", spaces=GROUP_SPACES, usage="/space info")(space_info)
    router.command(
        "role grant", roles=ADMINS, spaces=frozenset({IN_STAFF, IN_DIRECT}), usage="/role grant <email> <role>"
    )(role_grant)
    router.command(
        "role revoke", roles=ADMINS, spaces=frozenset({IN_STAFF, IN_DIRECT}), usage="/role revoke <email> <role>"
    )(role_revoke)
    router.command("roles", roles=STAFF_ROLES, spaces=frozenset({IN_STAFF, IN_DIRECT}), usage="/roles")(roles_list)
    router.command("language", spaces=ANYWHERE, usage="/language en|nl")(language)
    router.on_join(introduce)
    router.on_leave(farewell)
