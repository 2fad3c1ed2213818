"""The permission matrix: every registered command and card action, every role, every kind of space.

The expectations are written here, from the specification, per command; the registry is what
the code declares. A command or card action registered without an entry below fails the test,
so new commands are covered as they are added.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.context import Actor, Context, Space
from bot.errors import Forbidden, NotBound, WrongSpace
from bot.events import MessageEvent, Sender
from bot.router import Router
from bot.security import ADMIN, AGENT, CUSTOMER, ENGINEER, PROBLEM_MANAGER
from tests.support import command_router

router = command_router()

EVERYONE = "everyone"
STAFF = frozenset({AGENT, ENGINEER, PROBLEM_MANAGER, ADMIN})
GROUP = frozenset({"customer-a", "customer-b", "staff", "unbound"})
ALL_SPACES = GROUP | {"direct"}
STAFF_OR_DIRECT = frozenset({"staff", "direct"})
CUSTOMER_SPACES = frozenset({"customer-a", "customer-b"})
TICKET_SPACES = CUSTOMER_SPACES | {"staff"}

# command or card action → (who may, where). SPEC §1, §10; admins "in any space" for binding,
# but role administration is kept out of customer spaces (it lists staff).
POLICY: dict[str, tuple[frozenset[str] | str, frozenset[str]]] = {
    "help": (EVERYONE, ALL_SPACES),
    "ping": (EVERYONE, ALL_SPACES),
    "contact": (EVERYONE, ALL_SPACES),
    "sla": (EVERYONE, ALL_SPACES),
    "language": (EVERYONE, ALL_SPACES),
    "space info": (EVERYONE, GROUP),
    "space bind": (frozenset({ADMIN}), GROUP),
    "space unbind": (frozenset({ADMIN}), GROUP),
    "space staff": (frozenset({ADMIN}), GROUP),
    "role grant": (frozenset({ADMIN}), STAFF_OR_DIRECT),
    "role revoke": (frozenset({ADMIN}), STAFF_OR_DIRECT),
    "roles": (STAFF, STAFF_OR_DIRECT),
    "space.bind.confirm": (frozenset({ADMIN}), GROUP),
    "space.bind.cancel": (frozenset({ADMIN}), GROUP),
    # Tickets (SPEC §3, §4): customers in their organisation's space; agents triage in the staff
    # space and may act in the customer spaces they are in.
    "incident": (frozenset({CUSTOMER, AGENT}), CUSTOMER_SPACES),
    "rfc": (frozenset({CUSTOMER, AGENT}), CUSTOMER_SPACES),
    "rfi": (frozenset({CUSTOMER, AGENT}), CUSTOMER_SPACES),
    "complaint": (frozenset({CUSTOMER, AGENT}), CUSTOMER_SPACES),
    "ticket.create": (frozenset({CUSTOMER, AGENT}), CUSTOMER_SPACES),
    "tickets": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    "note": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    "confirm": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    "reopen": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    "ticket": (frozenset({CUSTOMER, AGENT}), TICKET_SPACES),
    # Out of office hours the engineer who acknowledged a P1 page decides its priority (SPEC §3), from their 1:1 too.
    "priority": (frozenset({CUSTOMER, AGENT, ENGINEER}), TICKET_SPACES | {"direct"}),
    "take": (frozenset({AGENT}), TICKET_SPACES),
    "respond": (frozenset({AGENT}), TICKET_SPACES),
    "wait": (frozenset({AGENT}), TICKET_SPACES),
    "resolve": (frozenset({AGENT}), TICKET_SPACES),
    "close": (frozenset({AGENT}), TICKET_SPACES),
    "convert": (frozenset({AGENT}), TICKET_SPACES),
    # SPEC §5: a longer lead time comes from an agent, with a reason.
    "extend": (frozenset({AGENT}), TICKET_SPACES),
    "queue": (frozenset({AGENT}), frozenset({"staff"})),
    "ticket.take": (frozenset({AGENT}), TICKET_SPACES),
    "ticket.respond": (frozenset({AGENT}), TICKET_SPACES),
    "ticket.priority": (frozenset({AGENT}), TICKET_SPACES),
    "ticket.resolve": (frozenset({AGENT}), TICKET_SPACES),
    "ticket.solved": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    "ticket.not_solved": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    "ticket.answer": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    "ticket.ask_in": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    # P1 aftercare (SPEC §6): problem managers own the RFO and RCA; agents may deliver them.
    "rfo": (frozenset({AGENT, PROBLEM_MANAGER}), TICKET_SPACES),
    "rca": (frozenset({AGENT, PROBLEM_MANAGER}), TICKET_SPACES),
    "report": (frozenset({AGENT, PROBLEM_MANAGER, ADMIN}), STAFF_OR_DIRECT),
    # Paging and escalation (SPEC §7): engineers answer pages from their phone (1:1) or the
    # staff space; agents set the rota; customers and agents escalate, agents de-escalate.
    "oncall": (STAFF, STAFF_OR_DIRECT),
    "oncall set": (frozenset({AGENT}), STAFF_OR_DIRECT),
    "oncall shift": (frozenset({AGENT}), STAFF_OR_DIRECT),
    "oncall swap": (frozenset({AGENT, ENGINEER}), STAFF_OR_DIRECT),
    "ack": (frozenset({AGENT, ENGINEER}), STAFF_OR_DIRECT),
    "page.ack": (frozenset({AGENT, ENGINEER}), STAFF_OR_DIRECT),
    "page.decline": (frozenset({AGENT, ENGINEER}), STAFF_OR_DIRECT),
    "page.view": (frozenset({AGENT, ENGINEER}), STAFF_OR_DIRECT),
    "page.priority": (frozenset({AGENT, ENGINEER}), STAFF_OR_DIRECT),
    "escalate": (frozenset({CUSTOMER, AGENT}), TICKET_SPACES),
    "deescalate": (frozenset({AGENT}), TICKET_SPACES),
    # Maintenance (SPEC §8): customers manage their space's subscriptions and see what concerns
    # them; agents announce and change from the staff space.
    "subscribe": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    "unsubscribe": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    "subscriptions": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    "maintenance": (frozenset({CUSTOMER, AGENT}), TICKET_SPACES),
    "maintenance announce": (frozenset({AGENT}), frozenset({"staff"})),
    "maintenance reschedule": (frozenset({AGENT}), frozenset({"staff"})),
    "maintenance scope": (frozenset({AGENT}), frozenset({"staff"})),
    "maintenance cancel": (frozenset({AGENT}), frozenset({"staff"})),
    "maintenance.announce": (frozenset({AGENT}), frozenset({"staff"})),
    # Disruptions and problems (SPEC §9): agents run disruptions from the staff space; customers
    # answer notices in their space; agents and problem managers run problems.
    **{name: (frozenset({AGENT}), frozenset({"staff"})) for name in (
        "disruption", "disruptions", "disruption open", "disruption update", "disruption close", "disruption link",
        "disruption unlink", "disruption.open", "disruption.update", "disruption.close", "disruption.proposal.open",
        "disruption.proposal.dismiss")},
    # A P1-level disruption's root cause analysis, like a ticket's: problem managers own it, agents may deliver it.
    "disruption rca": (frozenset({AGENT, PROBLEM_MANAGER}), frozenset({"staff"})),
    "disruption.affected": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    "disruption.mine": (frozenset({CUSTOMER}), CUSTOMER_SPACES),
    **{name: (frozenset({AGENT, PROBLEM_MANAGER}), frozenset({"staff"})) for name in (
        "problem open", "problem link", "problem update", "problem close", "problems")},
}

PERSONAS = {
    "no role": frozenset(),
    AGENT: frozenset({AGENT}),
    ENGINEER: frozenset({ENGINEER}),
    PROBLEM_MANAGER: frozenset({PROBLEM_MANAGER}),
    ADMIN: frozenset({ADMIN}),
}
SPACES = {
    "customer-a": ("group", "customer", 1),
    "customer-b": ("group", "customer", 2),
    "staff": ("group", "staff", None),
    "unbound": ("group", "unbound", None),
    "direct": ("direct", "direct", None),
}


def _context(persona: str, space: str) -> Context:
    room_type, kind, org_id = SPACES[space]
    roles = set(PERSONAS[persona])
    if kind == "customer":
        roles.add(CUSTOMER)  # every member of a bound space is its organisation's customer there
    sender = Sender(person_id="P", email="p@example.net")
    event = MessageEvent(message_id="M", room_id=f"R-{space}", room_type=room_type, sender=sender, text="", parent_id=None, created="")
    return Context(session=None, clock=None, actor=Actor(person_id="P", email="p@example.net", roles=frozenset(roles)),
                   space=Space(room_id=f"R-{space}", room_type=room_type, kind=kind, org_id=org_id), event=event, runtime=None)


def _expected(name: str, persona: str, space: str) -> bool:
    who, where = POLICY[name]
    held = PERSONAS[persona] | ({CUSTOMER} if space in CUSTOMER_SPACES else set())
    return space in where and (who == EVERYONE or bool(held & who))


def test_every_registered_command_and_action_has_a_policy():
    registered = {c.name for c in router.commands.values()} | set(router.actions)
    assert registered - set(POLICY) == set(), "add the new commands to POLICY with what the spec says"
    assert set(POLICY) - registered == set()


def _recording_router() -> tuple[Router, list[str]]:
    calls: list[str] = []
    copy = Router()
    for key, command in router.commands.items():
        copy.commands[key] = replace(command, handler=lambda ctx, args, name=command.name: calls.append(name))
    for key, action in router.actions.items():
        copy.actions[key] = replace(action, handler=lambda ctx, inputs, name=key: calls.append(name))
    return copy, calls


CASES = [(name, persona, space) for name in sorted(POLICY) for persona in PERSONAS for space in SPACES]


@pytest.mark.parametrize(("name", "persona", "space"), CASES)
def test_permission_matrix(name, persona, space):
    recording, calls = _recording_router()
    ctx = _context(persona, space)
    try:
        if name in router.actions:
            recording.dispatch_card(ctx, {"action": name})
        else:
            recording.dispatch_text(ctx, f"/{name}")
        allowed = True
    except (Forbidden, WrongSpace, NotBound):
        allowed = False
    assert allowed == _expected(name, persona, space)
    assert calls == ([name] if allowed else [])


def test_refusals_say_what_is_missing():
    from bot import i18n

    recording, _ = _recording_router()
    with pytest.raises(Forbidden) as refused:
        recording.dispatch_text(_context("no role", "unbound"), "/space bind Acme")
    assert refused.value.render("en") == "Only someone with the **admin** role can use `/space bind`."
    with pytest.raises(WrongSpace) as wrong:
        recording.dispatch_text(_context(ADMIN, "customer-a"), "/roles")
    assert wrong.value.render("nl") == "`/roles` werkt alleen in: een 1-op-1-space met mij, de staff-space."
    assert i18n.t("error.not_bound", "en").startswith("This space is not linked to a customer organisation yet")
