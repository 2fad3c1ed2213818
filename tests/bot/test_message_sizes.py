"""Webex's sizes at the outbox: a card message too big is a programming error, a long message is split whole.

Webex refuses text or markdown over 7,439 bytes, and a card message cannot be split (its
fallback and its card go together), so enqueue refuses one whose fallback or card is too big.
A card is measured as the SDK sends it: requests serialises with json.dumps' defaults, so "é"
is six bytes (\\u00e9) and an emoji twelve.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot import outbox
from bot.text import escape_markdown
from cards.common import MAX_CARD_BYTES, card, card_bytes, text
from storage.models.runtime import OutboxMessage
from tests.profiles import examples

ROOM = "Y2lzY29zcGFyazovL3VzL1JPT00vcm9vbQ"


def _card_of(value: str) -> list[dict]:
    return [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card([text(value)])}]


def _rows(db) -> int:
    with db.scope() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage))


def _enqueue(db, clock, **kw):
    with db.scope() as s:
        return outbox.enqueue(s, now=clock.now(), room_id=ROOM, **kw).id


def test_a_card_is_measured_as_the_sdk_sends_it():
    ascii_card, accented = card([text("e" * 1000)]), card([text("é" * 1000)])
    assert card_bytes(accented) - card_bytes(ascii_card) == 5000  # \u00e9: six bytes where "e" is one
    assert card_bytes(card([text("😀")])) - card_bytes(card([text("e")])) == 11  # a surrogate pair, \ud83d\ude00


def test_a_card_message_at_the_limits_is_queued(db, clock):
    fallback = "x" * outbox.MAX_MESSAGE_BYTES
    value = "y" * (MAX_CARD_BYTES - card_bytes(card([text("")])))
    assert card_bytes(_card_of(value)[0]["content"]) == MAX_CARD_BYTES
    row_id = _enqueue(db, clock, markdown=fallback, attachments=_card_of(value))
    with db.scope() as s:
        assert s.get(OutboxMessage, row_id).markdown == fallback


@pytest.mark.parametrize(
    ("fallback", "value", "problem"),
    [
        ("x" * (outbox.MAX_MESSAGE_BYTES + 1), "card", "fallback markdown has 7440 bytes"),
        ("é" * 3720, "card", "fallback markdown has 7440 bytes"),
        ("fallback", "y" * MAX_CARD_BYTES, "bytes of JSON"),
        ("fallback", "é" * 3400, "bytes of JSON"),  # 6.8 kB of UTF-8, 20.4 kB as sent
    ],
)
def test_a_card_message_too_big_for_webex_is_refused_and_nothing_is_queued(db, clock, fallback, value, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        _enqueue(db, clock, markdown=fallback, attachments=_card_of(value))
    assert _rows(db) == 0


def test_a_long_plain_message_is_still_split(db, clock):
    _enqueue(db, clock, markdown="z" * (outbox.MAX_MESSAGE_BYTES * 2 + 1))
    assert _rows(db) == 3


def test_an_edit_too_long_is_refused(db, clock):
    row_id = _enqueue(db, clock, markdown="countdown")
    with db.scope() as s, pytest.raises(ValueError, match="cannot be split"):
        outbox.enqueue_update(
            s, now=clock.now(), target=s.get(OutboxMessage, row_id), markdown="w" * (outbox.MAX_MESSAGE_BYTES + 1)
        )
    assert _rows(db) == 1


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(st.sampled_from(list("ab *_[]&<\\\n") + ["é", "😀"]), min_size=1, max_size=400).map("".join),
    st.integers(min_value=8, max_value=60),
)
def test_a_split_never_cuts_an_escape_in_two(typed, limit):
    body = escape_markdown(typed)
    pieces = outbox.split_message(body, limit)
    assert "".join(pieces) == body
    for piece in pieces:
        assert len(piece.encode("utf-8")) <= limit
        assert (len(piece) - len(piece.rstrip("\\"))) % 2 == 0  # no piece ends with the backslash of an escape
        assert not re.search(r"&[a-z]*$", piece)  # nor inside &amp; or &lt;
