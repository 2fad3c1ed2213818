"""The permission matrix: every registered command and card action, every role, every kind of space.

The cases come from the router's registry, so a new command or card action is covered the moment it
registers, and who may use it is written in one place: its registration. Each case is driven through
the router's real dispatch (handlers replaced by a recorder) and must be allowed exactly when the
registration says so, and otherwise refused with the refusal that names what is missing. What the
registrations say is held to the specification by the rules below and, for text commands, by the
README's table of commands by role (tests/commands/test_readme_commands.py).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import i18n
from bot.context import Actor, Context, Space
from bot.errors import Forbidden, NotBound, UserError, WrongSpace
from bot.events import MessageEvent, Sender
from bot.router import Router
from bot.security import (
    ADMIN,
    AGENT,
    ANYWHERE,
    CUSTOMER,
    ENGINEER,
    IN_CUSTOMER,
    IN_DIRECT,
    IN_STAFF,
    IN_UNBOUND,
    PROBLEM_MANAGER,
)
from tests.harness import command_router

_REGISTRY = command_router()


def registry() -> Router:
    """The router the bot runs with, every family registered."""
    return _REGISTRY


PERSONAS: dict[str, frozenset[str]] = {
    "no role": frozenset(),
    AGENT: frozenset({AGENT}),
    ENGINEER: frozenset({ENGINEER}),
    PROBLEM_MANAGER: frozenset({PROBLEM_MANAGER}),
    ADMIN: frozenset({ADMIN}),
}
# name → (room type, kind of space, organisation); two customer spaces, so a rule that held only for
# the first organisation would show.
SPACES: dict[str, tuple[str, str, int | None]] = {
    "customer-a": ("group", IN_CUSTOMER, 1),
    "customer-b": ("group", IN_CUSTOMER, 2),
    "staff": ("group", IN_STAFF, None),
    "unbound": ("group", IN_UNBOUND, None),
    "direct": ("direct", IN_DIRECT, None),
}


def _entries() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Every registered command and card action → (roles, kinds of space) as registered."""
    found = registry()
    entries = {c.name: (c.roles, c.spaces) for c in found.commands.values()}
    overlap = set(entries) & set(found.actions)
    assert not overlap, f"a command and a card action share a name: {overlap}"
    entries.update({key: (a.roles, a.spaces) for key, a in found.actions.items()})
    return entries


def _held(persona: str, space: str) -> frozenset[str]:
    """The roles a persona holds in a space: every member of a bound space is its organisation's customer there."""
    return PERSONAS[persona] | ({CUSTOMER} if SPACES[space][1] == IN_CUSTOMER else frozenset())


def _context(persona: str, space: str) -> Context:
    room_type, kind, org_id = SPACES[space]
    sender = Sender(person_id="P", email="p@example.net")
    event = MessageEvent(
        message_id="M", room_id=f"R-{space}", room_type=room_type, sender=sender, text="", parent_id=None, created=""
    )
    actor = Actor(person_id="P", email="p@example.net", roles=_held(persona, space))
    return Context(
        session=None,
        clock=None,
        actor=actor,
        event=event,
        runtime=None,
        space=Space(room_id=f"R-{space}", room_type=room_type, kind=kind, org_id=org_id),
    )


def _expected_refusal(name: str, persona: str, space: str) -> type[UserError] | None:
    """What the registration says this persona gets here: None (allowed) or the refusal naming what is missing."""
    roles, kinds = ENTRIES[name]
    kind = SPACES[space][1]
    if kind not in kinds:
        return NotBound if kind == IN_UNBOUND else WrongSpace
    if roles and not roles & _held(persona, space):
        # A customer-only command outside a customer's reach names the spaces it works in, not a role to ask for.
        return WrongSpace if roles == {CUSTOMER} else Forbidden
    return None


def _recording_router() -> tuple[Router, list[str]]:
    calls: list[str] = []
    found = registry()
    copy = Router()
    for key, command in found.commands.items():
        copy.commands[key] = replace(command, handler=lambda ctx, args, name=command.name: calls.append(name))
    for key, action in found.actions.items():
        copy.actions[key] = replace(action, handler=lambda ctx, inputs, name=key: calls.append(name))
    return copy, calls


ENTRIES = _entries()
CASES = [(name, persona, space) for name in sorted(ENTRIES) for persona in PERSONAS for space in SPACES]


@pytest.mark.parametrize(("name", "persona", "space"), CASES)
def test_permission_matrix(name: str, persona: str, space: str) -> None:
    recording, calls = _recording_router()
    ctx = _context(persona, space)
    refused: type[UserError] | None = None
    try:
        if name in recording.actions:
            recording.dispatch_card(ctx, {"action": name})
        else:
            recording.dispatch_text(ctx, f"/{name}")
    except (Forbidden, WrongSpace, NotBound) as refusal:
        refused = type(refusal)
    assert refused is _expected_refusal(name, persona, space)
    assert calls == ([name] if refused is None else [])


def test_the_matrix_covers_every_registration_and_a_case_of_each_outcome() -> None:
    found = registry()
    assert set(ENTRIES) == {c.name for c in found.commands.values()} | set(found.actions)
    outcomes = {_expected_refusal(*case) for case in CASES}
    assert outcomes == {None, NotBound, WrongSpace, Forbidden}


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_every_registration_is_usable_by_someone_somewhere(name: str) -> None:
    assert any(_expected_refusal(name, persona, space) is None for persona in PERSONAS for space in SPACES)


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_registrations_name_known_roles_and_kinds_of_space(name: str) -> None:
    roles, kinds = ENTRIES[name]
    assert roles <= {CUSTOMER, AGENT, ENGINEER, PROBLEM_MANAGER, ADMIN}
    assert kinds and kinds <= ANYWHERE
    if CUSTOMER in roles:
        # Nobody is a customer outside their organisation's space (SPEC §1).
        assert IN_CUSTOMER in kinds


@pytest.mark.parametrize("action", sorted(registry().actions))
def test_no_card_button_is_open_to_everyone(action: str) -> None:
    # A card can be forwarded or copied into any space; its buttons act only for the roles they name.
    roles, _ = ENTRIES[action]
    assert roles


def test_refusals_say_what_is_missing() -> None:
    recording, _ = _recording_router()
    with pytest.raises(Forbidden) as refused:
        recording.dispatch_text(_context("no role", "unbound"), "/space bind Acme")
    assert refused.value.render("en") == "Only someone with the **admin** role can use `/space bind`."
    with pytest.raises(WrongSpace) as wrong:
        recording.dispatch_text(_context(ADMIN, "customer-a"), "/roles")
    assert wrong.value.render("nl") == "`/roles` werkt alleen in: een 1-op-1-space met mij, de staff-space."
    assert i18n.t("error.not_bound", "en").startswith("This space is not linked to a customer organisation yet")
