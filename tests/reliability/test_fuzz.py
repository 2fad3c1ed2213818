"""Bad input, generated: random and malformed webhook bodies and signatures, command texts and
card submissions. The endpoint never answers 5xx and stores nothing it refuses; the workers
never fail on an event, and no one gets the apology that a crashed handler sends.

About 10,000 examples on SQLite (6,000 bodies, 2,000 texts, 2,000 card submissions) and a
fifth of that on PostgreSQL; derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot import i18n
from bot.app import Runtime, create_app
from bot.config import Settings
from bot.security import sign
from bot.webex import WebexClient
from sandbox.demo import ACME_ROOM, ADA_EMAIL, ANNA_EMAIL, BRAM_EMAIL, ERIK_EMAIL, SANNE_EMAIL, STAFF_ROOM
from storage.models.runtime import InboxEvent
from tests.harness import SECRET, Harness, command_router

router = command_router()
COMMANDS = sorted(" ".join(name) for name in router.commands)
ACTIONS = sorted(router.actions)
PEOPLE = (ANNA_EMAIL, BRAM_EMAIL, SANNE_EMAIL, ERIK_EMAIL, ADA_EMAIL)
APOLOGIES = tuple(i18n.t("error.apology", lang) for lang in ("en", "nl"))


def _examples(request, sqlite_count: int) -> settings:
    """The example budget: full on SQLite, a fifth on PostgreSQL."""
    on_postgres = "postgresql" in request.node.name
    return settings(
        max_examples=sqlite_count // 5 if on_postgres else sqlite_count,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- The endpoint ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
field_values = st.one_of(
    json_values,
    st.sampled_from(["messages", "attachmentActions", "memberships", "created", ""]),
    st.text(min_size=1, max_size=300),
)
events = st.fixed_dictionaries(
    {},
    optional={
        "id": field_values,
        "resource": field_values,
        "event": field_values,
        "actorId": field_values,
        "data": st.one_of(
            json_values,
            st.fixed_dictionaries({}, optional={"id": field_values, "roomId": field_values, "personId": field_values}),
        ),
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    events.map(lambda e: json.dumps(e).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass") if t else b""),
    st.integers(65_000, 70_000).map(lambda n: b'{"resource": "' + b"x" * n + b'"}'),
)
# What an HTTP header can carry: latin-1 without line breaks.
signatures = st.one_of(
    st.none(),
    st.just("right"),
    st.text(alphabet=string.hexdigits, max_size=45),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=50),
)


@pytest.fixture
def endpoint(db, clock):
    # Webex is unreachable on purpose: the endpoint must never call it.
    runtime = Runtime(
        settings=Settings(webex_webhook_secret=SECRET),
        db=db,
        webex=WebexClient(access_token="t", base_url="http://127.0.0.1:9/v1/"),
        clock=clock,
    )
    return create_app(runtime).test_client(), db


def _stored(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(InboxEvent))


def test_random_webhook_bodies_and_signatures(endpoint, request):
    client, db = endpoint

    @_examples(request, 6000)
    @given(body=bodies, signature=signatures, content_type=st.sampled_from(["application/json", "text/plain", ""]))
    def post(body, signature, content_type):
        headers = {"Content-Type": content_type} if content_type else {}
        if signature is not None:
            headers["X-Spark-Signature"] = sign(body, SECRET) if signature == "right" else signature
        before = _stored(db)
        response = client.post("/webhooks/webex", data=body, headers=headers)
        assert response.status_code < 500
        after = _stored(db)
        if response.status_code == 200:
            assert signature == "right" and after - before in (0, 1)
        else:
            assert response.status_code in (400, 401, 413) and after == before

    post()


# Signed as Webex signs, and still nothing the inbox can take: text no database stores (NUL, half a
# surrogate pair, as JSON escapes), numbers JSON has not (NaN, Infinity, beyond a double), ids that
# are no Webex id (too long, or not printable ASCII), nesting thousands deep; anywhere in the envelope.
_plain = st.text(alphabet=string.ascii_letters + string.digits + "-_=", max_size=12)
_json_string = _plain.map(lambda t: json.dumps(t)[1:-1])
hostile_values = st.one_of(
    st.builds(
        lambda a, bad, b: f'"{a}{bad}{b}"',
        _json_string,
        st.sampled_from(["\\u0000", "\\ud800", "\\udfff", "\\udbff", "\\ud83d"]),
        _json_string,
    ),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "[NaN]", '{"x": Infinity}']),
    st.integers(20, 20_000).map(lambda n: "[" * n + "]" * n),
)
hostile_ids = st.one_of(
    hostile_values,
    st.integers(201, 3000).map(lambda n: json.dumps("M" * n)),
    st.builds(
        lambda a, bad, b: json.dumps(a + bad + b),
        _plain,
        st.sampled_from([" ", "\n", "\r", "\t", "\x7f", "\x1b", "é", "\u202e", "\u200b"]),
        _plain,
    ),
)
_ENVELOPE = '{{"resource": {resource}, "event": "created", "actorId": {actor}, "data": {{"id": {data_id}, "roomId": {room}{extra}}}}}'


@st.composite
def hostile_envelopes(draw) -> bytes:
    fields = {"resource": '"messages"', "actor": '"P1"', "data_id": '"M1"', "room": '"R1"', "extra": ""}
    where = draw(st.sampled_from(["resource", "actor", "data_id", "room", "value", "key"]))
    if where == "value":
        fields["extra"] = f', "x": {draw(hostile_values)}'
    elif where == "key":
        fields["extra"] = f", {draw(hostile_values.filter(lambda v: v.startswith(chr(34))))}: 1"
    else:
        fields[where] = draw(hostile_ids)
    return _ENVELOPE.format(**fields).encode()


def test_signed_envelopes_no_database_holds_are_refused(endpoint, request):
    client, db = endpoint

    @_examples(request, 1000)
    @given(body=hostile_envelopes())
    def post(body):
        response = client.post("/webhooks/webex", data=body, headers={"X-Spark-Signature": sign(body, SECRET)})
        assert response.status_code == 400, body[:300]
        assert _stored(db) == 0

    post()


# --- The workers -------------------------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=300),
    st.builds(lambda name, rest: f"/{name} {rest}", st.sampled_from(COMMANDS), st.text(max_size=200)),
    st.builds(lambda name, rest: f"{name.upper()}   {rest}", st.sampled_from(COMMANDS), st.text(max_size=60)),
    st.builds(lambda name, n: f"/{name} INC-{n} " + "x" * 3000, st.sampled_from(COMMANDS), st.integers(0, 100_000)),
    st.builds(
        lambda name, markup: f"/{name} {markup}",
        st.sampled_from(COMMANDS),
        st.sampled_from(
            [
                "**b**",
                "[x](javascript:alert(1))",
                "<@all>",
                "<b>",
                "&amp;",
                "\x00\x07\u202e",
                "` ``` `",
                "service=M2M priority=P1 devices=-4 x",
                "2026-02-30 25:00",
                "P9",
                "INC-0 INC-99999999",
            ]
        ),
    ),
).filter(lambda t: t.strip() and "\x00" not in t)
inputs = st.dictionaries(
    st.one_of(
        st.sampled_from(
            [
                "action",
                "ticket",
                "kind",
                "service",
                "title",
                "priority",
                "page",
                "reason",
                "impact",
                "email",
                "phone",
                "number",
                "disruption",
                "maintenance",
            ]
        ),
        st.text(max_size=12),
    ),
    st.one_of(json_values, st.sampled_from(ACTIONS), st.text(max_size=8000)),
    max_size=8,
)
card_inputs = st.one_of(
    inputs, st.builds(lambda action, rest: {**rest, "action": action}, st.sampled_from(ACTIONS), inputs)
)


def _no_rate_limits(h: Harness) -> None:
    # Every example is a new command from the same few people: the per-person limit would answer most of them politely.
    h.runtime.settings = h.settings.with_(rate_limit=0)
    # Thousands of commands at one frozen instant: Webex's rate limit (the sandbox's, on the
    # test's clock) would hold nearly all of them back; the fuzz is about input, not pace.
    h.state.rate_limit.configure(per_second=None)


pytestmark = [pytest.mark.reliability, pytest.mark.prepare.with_args(_no_rate_limits)]


def _no_failure(harness) -> None:
    harness.inbox.drain()  # the bot's own last messages may have come back after the last run()
    with harness.runtime.db.read() as session:
        failed = [
            (e.event_key, e.status, e.error)
            for e in session.scalars(select(InboxEvent).where(InboxEvent.status.in_(("failed", "claimed"))))
        ]
    assert failed == []
    said = [
        m.get("markdown") or "" for m in harness.state.messages.values() if m["personEmail"] == "servicedesk@webex.bot"
    ]
    assert not [m for m in said if m.startswith(APOLOGIES) or "Traceback" in m]


def test_random_command_texts(harness, request):
    @_examples(request, 2000)
    @given(email=st.sampled_from(PEOPLE), direct=st.booleans(), text=texts)
    def say(email, direct, text):
        if direct:
            harness.say_direct(email, text)
        elif email in (ANNA_EMAIL, BRAM_EMAIL):
            harness.say(ANNA_EMAIL, ACME_ROOM, text)  # Bram's space is Polder's; Anna's is enough here
        else:
            harness.say(email, STAFF_ROOM, text)
        harness.run()

    say()
    _no_failure(harness)


def test_random_card_submissions(harness, request):
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident")
    harness.run()
    form = harness.bot_messages(ACME_ROOM)[-1]
    assert form.get("attachments"), "the incident form is a card"

    @_examples(request, 2000)
    @given(data=card_inputs)
    def press(data):
        harness.press(ANNA_EMAIL, form, data)
        harness.run()

    press()
    _no_failure(harness)
