"""Closing a problem: the linked tickets' threads are told; a generic problem (not tied to one
customer) also tells every other space subscribed to its services."""

import pytest
from sqlalchemy import func, select

from sandbox.demo import (
    ACME_ROOM,
    ADA_EMAIL,
    ANNA_EMAIL,
    BRAM_EMAIL,
    FATIMA_EMAIL,
    POLDER_ROOM,
    SANNE_EMAIL,
    STAFF_ROOM,
)
from storage.models.operations import Problem
from storage.models.runtime import OutboxMessage
from tests.harness import Harness, local
from tests.harness import answer as _do

DELTA_ROOM = "Delta Rail — IoT"


def _monday_ten(h: Harness) -> None:
    h.clock.set(local(2026, 11, 23, 10, 0))


# A third organisation, Delta Rail, with no ticket of its own; its space speaks Dutch.
pytestmark = [
    pytest.mark.admins(ADA_EMAIL),
    pytest.mark.customer_space(DELTA_ROOM, "Delta Rail", ANNA_EMAIL, language="nl"),
    pytest.mark.prepare.with_args(_monday_ten),
]


def _problem_messages(harness, room):
    """(in a thread?, text) of the problem messages a space got."""
    return [(bool(m.get("parentId")), m["markdown"]) for m in harness.bot_messages(room) if "PRB-1001" in m["markdown"]]


def _count(db, model):
    with db.scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_closing_a_generic_problem_tells_every_space_subscribed_to_its_services(harness):
    _do(harness, ANNA_EMAIL, DELTA_ROOM, "/subscribe M2M")
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Drops")
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/incident service=M2M Drops too")
    _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem open Intermittent APN drops INC-1001 INC-1002")
    assert _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem close PRB-1001 fixed APN pool enlarged") == (
        "**PRB-1001** closed; 2 linked tickets told in their threads, and 1 other spaces subscribed to M2M."
    )
    # The linked tickets hear it in their threads, once; Delta, subscribed to M2M, in a message of its own, in Dutch.
    assert _problem_messages(harness, ACME_ROOM) == [
        (True, "**Problem PRB-1001** is fixed permanently: APN pool enlarged")
    ]
    assert _problem_messages(harness, POLDER_ROOM) == [
        (True, "**Problem PRB-1001** is fixed permanently: APN pool enlarged")
    ]
    assert _problem_messages(harness, DELTA_ROOM) == [
        (False, "**Probleem PRB-1001** op M2M (Intermittent APN drops) is blijvend opgelost: APN pool enlarged")
    ]


def test_closing_a_problem_of_one_customer_tells_only_its_tickets(harness):
    _do(harness, ANNA_EMAIL, DELTA_ROOM, "/subscribe M2M")
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Drops")
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Drops again")
    _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem open Acme's APN drops INC-1001 INC-1002")
    _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem update PRB-1001 customer Looking into your APN")
    assert _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem close PRB-1001 mitigated Reconnect daily") == (
        "**PRB-1001** closed; 2 linked tickets told."
    )
    assert [text for _, text in _problem_messages(harness, ACME_ROOM)][-2:] == [
        "**Problem PRB-1001** is closed; no permanent fix is feasible. Mitigating actions: Reconnect daily"
    ] * 2
    assert _problem_messages(harness, DELTA_ROOM) == _problem_messages(harness, POLDER_ROOM) == []
    with harness.runtime.db.scope() as s:
        assert s.scalars(select(Problem)).one().outcome == {
            "how": "mitigated",
            "text": "Reconnect daily",
            "generic": False,
        }


def test_a_problem_whose_updates_went_to_everyone_is_generic_when_it_closes(harness):
    _do(harness, ANNA_EMAIL, DELTA_ROOM, "/subscribe Things")  # Delta does not use M2M: it hears nothing
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Drops")
    _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem open APN pool too small INC-1001")
    assert _do(
        harness, FATIMA_EMAIL, STAFF_ROOM, "/problem update PRB-1001 generic Every M2M customer may see drops"
    ) == ("Update of **PRB-1001** sent to 2 places.")
    assert _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem close PRB-1001 mitigated Reconnect daily") == (
        "**PRB-1001** closed; 1 linked tickets told in their threads, and 1 other spaces subscribed to M2M."
    )
    assert _problem_messages(harness, POLDER_ROOM)[-1] == (
        False,
        "**Problem PRB-1001** on M2M (APN pool too small) is closed; no permanent fix is feasible. Mitigating actions: Reconnect daily",
    )
    assert _problem_messages(harness, ACME_ROOM)[-1] == (
        True,
        "**Problem PRB-1001** is closed; no permanent fix is feasible. Mitigating actions: Reconnect daily",
    )
    assert _problem_messages(harness, DELTA_ROOM) == []


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        (
            "/problem close PRB-1001 solved APN pool enlarged",
            "Say fixed or mitigated, then the text.\n\nUsage: `/problem close <PRB-number> fixed|mitigated <text>`",
        ),
        (
            "/problem close PRB-1001 fixed",
            "Say fixed or mitigated, then the text.\n\nUsage: `/problem close <PRB-number> fixed|mitigated <text>`",
        ),
        ("/problem close PRB-1001 fixed " + "x" * 4001, "The text can be at most 4000 characters; this one has 4001."),
        ("/problem close PRB-7 fixed APN pool enlarged", r"There is no problem **PRB\-7**."),
    ],
)
def test_bad_closures_are_refused_and_tell_nobody(harness, db, text, refusal):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Drops")
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/incident service=M2M Drops too")
    _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem open Intermittent APN drops INC-1001 INC-1002")
    sent = _count(db, OutboxMessage)
    assert _do(harness, FATIMA_EMAIL, STAFF_ROOM, text) == refusal
    assert _count(db, OutboxMessage) == sent + 1
    with db.scope() as s:
        assert (s.scalars(select(Problem)).one().status, s.scalars(select(Problem)).one().outcome) == ("open", None)


def test_a_closed_problem_is_not_closed_again(harness, db):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Drops")
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/incident service=M2M Drops too")
    _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem open Intermittent APN drops INC-1001 INC-1002")
    _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem close PRB-1001 fixed APN pool enlarged")
    sent = _count(db, OutboxMessage)
    assert (
        _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem close PRB-1001 mitigated Reconnect daily")
        == "**PRB-1001** is closed."
    )
    assert _count(db, OutboxMessage) == sent + 1
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/language nl")
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/problem close PRB-1001 fixed again") == "**PRB-1001** is gesloten."
