"""The per-person rate limit: beyond it a command gets one answer saying from when it may be sent
again; acknowledgements, presses answering the bot's cards and P1 requests always get through."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from sandbox.demo import ACME_ROOM, ADA_EMAIL, ANNA_EMAIL, BRAM_EMAIL, ERIK_EMAIL, POLDER_ROOM, SANNE_EMAIL, STAFF_ROOM
from storage.models.tickets import Ticket
from tests.harness import answer, command_router

pytestmark = pytest.mark.admins(ADA_EMAIL)

LIMIT = 3
OVER = (
    "You sent more than 3 commands within a minute, so I did not act on this one. Send it again from {} (Amsterdam time). "
    "Page acknowledgements, answers on my cards and P1 requests always get through."
)


@pytest.fixture
def limited(harness):
    harness.runtime.settings = harness.settings.with_(rate_limit=LIMIT)
    return harness


def _flood(harness, email, room, times=LIMIT):
    for _ in range(times):
        harness.say(email, room, "/ping")
    harness.run()


def test_one_answer_beyond_the_limit_says_when_to_send_again(limited, clock):
    _flood(limited, ANNA_EMAIL, ACME_ROOM)
    clock.advance(timedelta(seconds=20, microseconds=500_000))
    assert answer(limited, ANNA_EMAIL, ACME_ROOM, "/tickets") == OVER.format("10:01:00")
    count = len(limited.bot_messages(ACME_ROOM))
    answer(limited, ANNA_EMAIL, ACME_ROOM, "/tickets")
    assert len(limited.bot_messages(ACME_ROOM)) == count  # said once; the rest of the stretch is not answered
    clock.advance(timedelta(seconds=39, microseconds=500_000))  # 10:01:00: the first of the three has left the minute
    assert answer(limited, ANNA_EMAIL, ACME_ROOM, "/tickets").startswith("No open tickets")
    answer(limited, BRAM_EMAIL, POLDER_ROOM, "/language nl")
    _flood(limited, BRAM_EMAIL, POLDER_ROOM, LIMIT - 1)
    assert answer(limited, BRAM_EMAIL, POLDER_ROOM, "/ping") == (
        "Je stuurde meer dan 3 opdrachten binnen een minuut, dus met deze heb ik niets gedaan. Stuur die opnieuw vanaf 10:02:00 "
        "(Nederlandse tijd). Het bevestigen van een page, antwoorden op mijn kaarten en P1-meldingen komen altijd door."
    )


def test_a_p1_request_an_acknowledgement_and_answers_on_cards_get_through(limited, db, clock):
    # Once a flood dropped everything after it, silently: a new P1 minutes later, the page's acknowledgement.
    _flood(limited, ANNA_EMAIL, ACME_ROOM, LIMIT + 1)
    _flood(limited, ERIK_EMAIL, STAFF_ROOM, LIMIT + 1)
    clock.advance(timedelta(seconds=30))
    registered = answer(
        limited, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 phone=+31612345678 Everything down"
    )
    assert any(
        m["markdown"].startswith("**INC-1001** — incident registered: Everything down")
        for m in limited.bot_messages(ACME_ROOM)
    )
    assert registered.startswith("⏱ **INC-1001**")
    page = next(m for m in limited.direct_messages(ERIK_EMAIL) if m.get("attachments"))
    limited.press(ERIK_EMAIL, page, page["attachments"][0]["content"]["actions"][0]["data"])
    limited.run()
    assert limited.direct_messages(ERIK_EMAIL)[-1]["markdown"].startswith("You acknowledged **INC-1001**")
    answer(limited, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN?")
    question = limited.bot_messages(ACME_ROOM)[-1]
    limited.press(
        ANNA_EMAIL, question, {**question["attachments"][0]["content"]["actions"][0]["data"], "answer": "internet.m2m"}
    )
    limited.run()
    with db.read() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert (ticket.requested_priority, ticket.acknowledged_by, ticket.status) == (
            "P1",
            "Erik Visser",
            "in_progress",
        )
    # Anything else stays held back until the minute is over.
    count = len(limited.bot_messages(ACME_ROOM))
    answer(limited, ANNA_EMAIL, ACME_ROOM, "/tickets")
    assert len(limited.bot_messages(ACME_ROOM)) == count


def test_which_commands_and_presses_the_limit_leaves_alone():
    from bot.events import CardSubmitEvent, MessageEvent, Sender

    router = command_router()
    sender = Sender(person_id="p", email="p@example.com")

    def typed(text):
        return router.unlimited(
            MessageEvent(
                message_id="m", room_id="r", room_type="group", sender=sender, text=text, parent_id=None, created=""
            )
        )

    def pressed(inputs):
        return router.unlimited(
            CardSubmitEvent(action_id="a", message_id="m", room_id="r", room_type="group", sender=sender, inputs=inputs)
        )

    assert [
        text
        for text in (
            "/ack INC-1001",
            "/incident service=M2M priority=P1 Down",
            "/incident priority=p1",
            "/priority INC-1001 P1 x",
            "/priority P1 in the thread",
            "/incident service=M2M Down",
            "/incident Down priority=P1",
            "/priority INC-1 P2",
            "/tickets",
            "/ping",
            "hello",
        )
        if typed(text)
    ] == [
        "/ack INC-1001",
        "/incident service=M2M priority=P1 Down",
        "/incident priority=p1",
        "/priority INC-1001 P1 x",
        "/priority P1 in the thread",
    ]
    # Presses that answer the bot: the page, its question and resolution cards, and every form (a form acts once).
    assert {action for action in router.actions if pressed({"action": action})} == {
        "page.ack",
        "page.decline",
        "page.priority",
        "ticket.solved",
        "ticket.not_solved",
        "ticket.answer",
        "ticket.ask_in",
        "ticket.create",
        "ticket.resolve",
        "space.bind.confirm",
        "space.bind.cancel",
        "maintenance.announce",
        "disruption.open",
        "disruption.update",
        "disruption.close",
        "disruption.affected",
        "disruption.proposal.open",
        "disruption.proposal.dismiss",
    }
    assert pressed({"action": "ticket.priority", "priority": "P1"}) and not pressed(
        {"action": "ticket.priority", "priority": ["P1"]}
    )
