"""No handler fails on input: generated arguments for every command and generated submissions for
every form end in an answer or a refusal, never in an exception (which the inbox turns into the
apology and a failed event).

Each example is built from what the command or form takes, read from the registry: the slots of
its usage line and the fields (with their types) its card action declares. One slot or field gets
a hostile value of its kind (a number `int()` refuses, a date before the year 2000 or after 2099,
a list where text belongs, invisible characters, 4,000 characters more than allowed) and the
others a good value, so the hostile one reaches the code that reads it; other examples are
random throughout.

The examples run in-process on the real router and handlers, each in a transaction rolled back
afterwards, against a desk with a ticket, a page, a disruption, a proposal and a maintenance to
find; the few Webex look-ups a handler makes go to the one sandbox served for the test.
Derandomized, so every run tries the same examples; a fifth of them on PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import logs
from bot.context import build_context
from bot.errors import UserError
from bot.events import CardSubmitEvent, MessageEvent, Sender
from bot.fields import Field
from bot.routes import _authorise
from sandbox.demo import ACME_ROOM, ADA_EMAIL, ANNA_EMAIL, ERIK_EMAIL, FATIMA_EMAIL, SANNE_EMAIL, STAFF_ROOM
from storage.models.operations import DisruptionProposal, Page
from tests.harness import answer, command_router
from tests.profiles import examples

pytestmark = pytest.mark.admins(ADA_EMAIL)

router = command_router()
COMMANDS = sorted(" ".join(words) for words in router.commands)
ACTIONS = sorted(router.actions)
# Random examples besides the explicit ones (every hostile value in every slot and field).
RANDOM_PER_COMMAND = 10
RANDOM_PER_ACTION = 15

# --- values -------------------------------------------------------------------------------------

# Of each kind, values that once failed a handler or come close: tried in every slot and field
# (explicit examples, run first), and drawn among random ones.
HOSTILE = {
    "number": ["²", "4" * 4400, "-1", "99999999999", "1e3", ""],
    "date": ["0001-01-01 00:00", "9999-12-31 23:00", "2026-01-09 000000-3000", "2026-03-29 02:30", "tomorrow"],
    "record": ["INC-99999999999", "INC-١٠٠١", "DIS-0", ""],
    "text": ["", "\u202e\u200b", "é" * 8100, "<@all> **x** [a](javascript:b)"],
    "id": ["9223372036854775808", -1, "x"],
    "flag": ["yes", True],
    "choices": [["M2M", "Fax"], "Fax", ",,"],
}
# Years a date's year is moved to in every date slot at once (so a start stays before its end).
HOSTILE_YEARS = ["0001", "1999", "2100", "9999"]
WRONG_TYPES: list[Any] = [None, 5, ["a", "b"], {"a": 1}]

RANDOM = {
    "number": st.one_of(st.sampled_from(HOSTILE["number"]), st.integers(-(10**30), 10**30).map(str)),
    "date": st.one_of(
        st.sampled_from(HOSTILE["date"]),
        st.builds(
            lambda y, mo, d, h, mi: f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}",
            st.integers(0, 9999),
            st.integers(0, 13),
            st.integers(0, 32),
            st.integers(0, 25),
            st.integers(0, 61),
        ),
        st.builds(lambda y, mo: f"{y:04d}-{mo:02d}", st.integers(0, 9999), st.integers(0, 13)),
        st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    ),
    "record": st.sampled_from(
        HOSTILE["record"] + ["INC-1001", "DIS-1001", "MNT-1001", "PRB-1001", "RFC-1001", "P9", "inc-1001 x"]
    ),
    "text": st.one_of(
        st.sampled_from(HOSTILE["text"]), st.text(max_size=60), st.integers(3990, 8100).map(lambda n: "é" * n)
    ),
}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
ANY_WORD = st.one_of(*RANDOM.values())

# Slots and fields by name: the kind of value they take.
KINDS = {
    **dict.fromkeys(["devices", "connections", "repage", "pages", "minutes", "per engineer"], "number"),
    **dict.fromkeys(["start", "end", "next_update", "desired_date", "from", "to", "YYYY-MM"], "date"),
    **dict.fromkeys(
        [
            "number",
            "ticket",
            "RFI-number",
            "DIS-number",
            "MNT-number",
            "PRB-number",
            "INC-…",
            "ref",
            "reference",
            "disruption",
            "tickets",
            "despite_maintenance",
        ],
        "record",
    ),
}
FIELD_KINDS = {Field.NUMBER: "number", Field.ID: "id", Field.FLAG: "flag", Field.CHOICES: "choices"}
# A good value for each field and slot, so that only the hostile one is refused.
GOOD: dict[str, str] = {
    "kind": "incident",
    "service": "M2M",
    "services": "M2M",
    "title": "Modems offline",
    "description": "Since 09:00",
    "impact": "12",
    "devices": "12",
    "connections": "12",
    "priority": "P1",
    "contact_name": "Anna de Vries",
    "phone": "+31612345678",
    "email": ANNA_EMAIL,
    "watchers": "",
    "roaming": "false",
    "reference": "",
    "ref": "INC-1001",
    "type": "standard",
    "rfc_type": "standard",
    "desired_date": "2026-12-24",
    "despite_maintenance": "",
    "ticket": "INC-1001",
    "number": "INC-1001",
    "text": "Looking into it",
    "reason": "Many SIMs",
    "cause": "APN",
    "resolution": "Fixed",
    "customer_domain": "false",
    "outcome": "Done",
    "answer": "internet",
    "org": "Delta",
    "organisation": "Delta",
    "sla_profile": "iot",
    "language": "en",
    "start": "2026-12-20 01:00",
    "end": "2026-12-20 05:00",
    "adhoc": "false",
    "severity": "P2",
    "tickets": "INC-1001",
    "actions": "Rerouted",
    "next_steps": "Watch",
    "next_update": "2026-11-23 23:00",
    "disruption": "DIS-1001",
    "summary": "Restored",
    "rca": "false",
    "team": "iot-oncall",
    "from": "2026-12-24T18:00",
    "to": "2026-12-25T08:00",
    "role": "agent",
    "question": "Which APN?",
    "link or text": "https://rfo.example",
    "command": "sla",
    "DIS-number": "DIS-1001",
    "MNT-number": "MNT-1001",
    "RFI-number": "INC-1001",
    "PRB-number": "PRB-1001",
    "INC-…": "INC-1001",
    "minutes": "5",
    "per engineer": "2",
    "repage": "5",
    "pages": "2",
    "YYYY-MM": "2026-11",
}
# What the intake commands take inline (`field=value`) before the title: the form's fields and the aliases people type.
INTAKE_SLOTS = [
    (key, GOOD[key], True) for key in ("service", "priority", "phone", "devices", "desired_date", "ref")
] + [("title", GOOD["title"], False)]


def _year_shifted(value: Any, year: str) -> Any:
    return re.sub(r"^\d{4}", year, value) if isinstance(value, str) and re.match(r"^\d{4}-\d{2}", value) else value


# --- commands: slots from the usage line ----------------------------------------------------------

_TOKEN = re.compile(r'\w+="[^"]*"|\w+=\S+|"[^"]*"|<[^>]+>|\S+')
Slot = tuple[str, str, bool]  # name, value, written as name=value


def _slots(name: str, usage: str) -> list[Slot]:
    """The slots of the usage line's first form, after the command's name, with good values."""
    if "field=value" in usage:
        return INTAKE_SLOTS
    line = usage.split(" | /")[0].removeprefix(f"/{name}")
    slots: list[Slot] = []
    for token in _TOKEN.findall(line):
        token = token.strip("[]")
        if token in ("", "|", "…") or "…]" in token or token.endswith("…"):
            continue
        if "=" in token and not token.startswith("<"):
            key, _, example = token.partition("=")
            example = example.strip('"')
            slots.append((key, GOOD.get(key, example) if "…" in example or example.startswith("<") else example, True))
        else:
            slot = token.strip('"').strip("<>")
            slots.append((slot, GOOD.get(slot, slot), False))
    return slots


def _quoted(value: Any) -> str:
    value = str(value)
    return f'"{value}"' if (" " in value or not value) and '"' not in value else value


def _render(slots: list[Slot]) -> str:
    return " ".join(f"{key}={_quoted(value)}" if pair else _quoted(value) for key, value, pair in slots)


def _command_examples(slots: list[Slot]) -> list[str]:
    """Good slots with one hostile value in one slot, for every slot and value of its kind; every
    date slot's year moved at once; and each slot holding what belongs in another."""
    found = [_render(slots)]
    for i, (key, _, pair) in enumerate(slots):
        for bad in HOSTILE[KINDS.get(key, "text")]:
            found.append(_render([*slots[:i], (key, bad, pair), *slots[i + 1 :]]))
    if any(KINDS.get(key) == "date" for key, _, _ in slots):
        for year in HOSTILE_YEARS:
            found.append(_render([(key, _year_shifted(value, year), pair) for key, value, pair in slots]))
    return found


def _random_arguments(slots: list[Slot]) -> st.SearchStrategy[str]:
    """Slots each good or random of their kind (or of any kind), or words of any kind."""
    each = [
        st.one_of(st.just(value), RANDOM[KINDS.get(key, "text")], ANY_WORD).map(lambda v, k=key, p=pair: (k, v, p))
        for key, value, pair in slots
    ]
    return st.one_of(
        st.tuples(*each).map(lambda chosen: _render(list(chosen))),
        st.lists(ANY_WORD, max_size=5).map(lambda words: " ".join(_quoted(w) for w in words)),
    )


# --- forms: fields as declared ---------------------------------------------------------------------


def _form_examples(fields: dict[str, Field], good: dict[str, Any]) -> list[dict[str, Any]]:
    """The good submission with one field hostile or of a wrong type, for every field; every date
    field's year moved at once; every field missing."""
    found = [good, {}]
    for key, kind in fields.items():
        for bad in HOSTILE[FIELD_KINDS.get(kind) or KINDS.get(key, "text")] + WRONG_TYPES:
            found.append({**good, key: bad})
    if any(KINDS.get(key) == "date" for key in fields):
        for year in HOSTILE_YEARS:
            found.append({key: _year_shifted(value, year) for key, value in good.items()})
    return found


def _random_submissions(fields: dict[str, Field], good: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    def values(key: str, kind: Field) -> st.SearchStrategy:
        hostile = st.sampled_from(HOSTILE[FIELD_KINDS[kind]]) if kind in FIELD_KINDS else RANDOM[KINDS.get(key, "text")]
        return st.one_of(st.just(good[key]), hostile, JSON_VALUES)

    return st.fixed_dictionaries({}, optional={key: values(key, kind) for key, kind in fields.items()})


# --- the desk and the dispatch ---------------------------------------------------------------------


class _Undo(Exception):
    """Ends an example's transaction: what the handler did is rolled back."""


def _budget(request, count: int) -> settings:
    on_postgres = "postgresql" in request.node.name
    count = examples(count)
    return settings(
        max_examples=max(count // 5, 5) if on_postgres else count,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.fixture
def desk(harness, clock):
    """The harness with something to find: INC-1001 (a P1, paged), DIS-1001 (noticed to Acme), a
    pending disruption proposal, MNT-1001; the sandbox's Webex takes any pace."""
    harness.state.rate_limit.configure(per_second=None)
    answer(
        harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 phone=+31612345678 devices=12 Modems offline"
    )
    answer(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        '/disruption open services=M2M impact=a actions=b next_steps=c next_update="12:00"',
    )
    answer(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        '/maintenance announce services=M2M start="2026-12-20 01:00" end="2026-12-20 05:00" impact=x',
    )
    for text in ("/incident service=LoRa One", "/incident service=LoRa Two"):
        answer(harness, ANNA_EMAIL, ACME_ROOM, text)
    with harness.runtime.db.scope() as s:
        s.add(DisruptionProposal(service="LoRa", ticket_ids=[2, 3], status="proposed", created_at=clock.now()))
    clock.advance(timedelta(minutes=1))
    return harness


def _places(harness) -> list[tuple[str, str, str]]:
    """(email, room id, room type) of the people and spaces commands come from."""
    staff, acme = harness.room(STAFF_ROOM)["id"], harness.room(ACME_ROOM)["id"]
    return [
        (ANNA_EMAIL, acme, "group"),
        (SANNE_EMAIL, acme, "group"),
        (SANNE_EMAIL, staff, "group"),
        (ERIK_EMAIL, staff, "group"),
        (FATIMA_EMAIL, staff, "group"),
        (ADA_EMAIL, staff, "group"),
        (ADA_EMAIL, "unbound-space", "group"),
        (ERIK_EMAIL, "erik-direct", "direct"),
        (SANNE_EMAIL, "sanne-direct", "direct"),
        (ADA_EMAIL, "ada-direct", "direct"),
    ]


def _sender(harness, email: str) -> Sender:
    person = harness.state.person_by_email(email)
    return Sender(person_id=person["id"], email=email, display_name=person["displayName"])


def _run(harness, event, act) -> None:
    """Dispatch `event` in a transaction that is rolled back; anything but a refusal fails the test.
    Its log fields are bound as the inbox binds them, so what a handler notes ends with the example."""
    try:
        with (
            logs.bound(event=getattr(event, "message_id", None), space=event.room_id),
            harness.runtime.db.scope() as session,
        ):
            ctx = build_context(session, event, harness.runtime)
            try:
                act(ctx)
            except UserError as refused:
                refused.render(ctx.lang)
            raise _Undo
    except _Undo:
        pass


def _who_may(harness):
    """A function of (roles, spaces, name): the places whose person may use that command or button
    there, so that its handler is reached (the people and spaces as the directory has them)."""
    contexts = {}
    for place in _places(harness):
        email, room_id, room_type = place
        event = MessageEvent(
            message_id="probe",
            room_id=room_id,
            room_type=room_type,
            sender=_sender(harness, email),
            text="",
            parent_id=None,
            created="",
        )
        _run(harness, event, lambda ctx, place=place: contexts.setdefault(place, ctx))

    def allowed(roles, spaces, name) -> list[tuple[str, str, str]]:
        found = []
        for place, ctx in contexts.items():
            try:
                _authorise(ctx, roles, spaces, name)
            except UserError:
                continue
            found.append(place)
        return found

    return allowed


def _with_examples(test, examples: list[dict[str, Any]]):
    """`test` (a @given test) trying each of `examples` first."""
    for values in reversed(examples):
        test = example(**values)(test)
    return test


@pytest.mark.sweep
def test_no_command_fails_on_its_arguments(desk, request):
    allowed = _who_may(desk)
    for name in COMMANDS:
        command = router.commands[tuple(name.split())]
        places = allowed(command.roles, command.spaces, name)
        assert places, f"nobody may use /{name} in the places tried"
        slots = _slots(name, command.usage)

        def say(place, rest):
            email, room_id, room_type = place
            text = f"/{name} {rest}"  # noqa: B023  (run within this iteration, below)
            event = MessageEvent(
                message_id="typed",
                room_id=room_id,
                room_type=room_type,
                sender=_sender(desk, email),
                text=text,
                parent_id=None,
                created="",
            )
            _run(desk, event, lambda ctx: router.dispatch_text(ctx, text))

        test = _budget(request, RANDOM_PER_COMMAND)(
            given(place=st.sampled_from(places), rest=_random_arguments(slots))(say)
        )
        _with_examples(test, [{"place": places[0], "rest": rest} for rest in _command_examples(slots)])()


@pytest.mark.sweep
def test_no_form_or_button_fails_on_what_it_submits(desk, request):
    with desk.runtime.db.read() as session:
        ids = {
            "page": session.scalars(select(Page.id)).first(),
            "proposal": session.scalars(select(DisruptionProposal.id)).first(),
        }
    allowed = _who_may(desk)
    for name in ACTIONS:
        action = router.actions[name]
        places = allowed(action.roles, action.spaces, name)
        assert places, f"nobody may press {name} in the places tried"
        fields = dict(action.fields)
        good = {key: ids.get(key, GOOD.get(key, "x")) for key in fields}

        def press(place, inputs):
            email, room_id, room_type = place
            data = {**inputs, "action": name}  # noqa: B023  (run within this iteration, below)
            event = CardSubmitEvent(
                action_id="pressed",
                message_id="card",
                room_id=room_id,
                room_type=room_type,
                sender=_sender(desk, email),
                inputs=data,
            )
            _run(desk, event, lambda ctx: router.dispatch_card(ctx, data))

        test = _budget(request, RANDOM_PER_ACTION)(
            given(place=st.sampled_from(places), inputs=_random_submissions(fields, good))(press)
        )
        _with_examples(test, [{"place": places[0], "inputs": inputs} for inputs in _form_examples(fields, good)])()
