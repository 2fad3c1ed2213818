"""Each step of the middleware alone (bot/middleware.py), on a real transaction and a stand-in runtime;
tests/bot/test_flow.py and the command tests run them together, end to end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import i18n, middleware
from bot.access import WebexAccess
from bot.clock import Clock
from bot.config import Settings
from bot.errors import Refused, UserError
from bot.events import CardSubmitEvent, JoinEvent, LeaveEvent, MessageEvent, Sender
from bot.metrics import Metrics
from bot.middleware import Call, SenderUnnamed
from bot.router import Router
from bot.scheduler import TimerRegistry
from bot.webex import BotIdentity, Transient
from storage import directory
from storage.db import Database
from storage.models.runtime import OutboxMessage

BOT = BotIdentity(person_id="bot-id", uuid="bot-uuid", display_name="Desk", emails=("desk@webex.bot",))
ANNA = Sender(person_id="anna-id", email="anna@acme.example", display_name="Anna")
_BOT_SENDER = Sender(BOT.person_id, BOT.emails[0])


class _Webex:
    def identity(self) -> BotIdentity:
        return BOT


@dataclass
class _Runtime:
    settings: Settings
    clock: Clock
    db: Database
    webex: _Webex = field(default_factory=_Webex)
    metrics: Metrics = field(default_factory=Metrics)
    router: Router = field(default_factory=Router)
    timers: TimerRegistry = field(default_factory=TimerRegistry)
    version: str = "test"
    access: WebexAccess = field(init=False)

    def __post_init__(self) -> None:
        self.access = WebexAccess(self.metrics)

    def wake_outbox(self) -> None:
        pass


@pytest.fixture
def runtime(db, clock):
    return _Runtime(settings=Settings(database_url=db.url, rate_limit=2), clock=clock, db=db)


def _message(text: str = "/ping", sender: Sender = ANNA) -> MessageEvent:
    return MessageEvent(
        message_id="m1", room_id="room-1", room_type="group", sender=sender, text=text, parent_id=None, created=""
    )


def _leave() -> LeaveEvent:
    return LeaveEvent(membership_id="ms", room_id="room-1", room_type="group", sender=_BOT_SENDER)


class _Recorder:
    """The rest of the chain, as a step sees it, and what start_over was asked."""

    def __init__(self, effect=None) -> None:
        self.calls: list[Call] = []
        self.restarts: list[tuple[str, str | None]] = []
        self.effect = effect

    def __call__(self, call: Call) -> None:
        self.calls.append(call)
        if self.effect is not None:
            self.effect(call)

    def call(self, session, runtime, event, **kw) -> Call:
        return Call(
            session=session,
            event=event,
            runtime=runtime,
            received_at=runtime.clock.now(),
            start_over=lambda status, error: self.restarts.append((status, error)),
            **kw,
        )


def _replies(session) -> list[str]:
    return [row.markdown for row in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_drop_own_events_ignores_the_bots_own_message(db, runtime):
    rest = _Recorder()
    with db.scope() as session:
        middleware.drop_own_events(rest.call(session, runtime, _message(sender=_BOT_SENDER)), rest)
    assert rest.calls == [] and rest.restarts == [("ignored", None)]


def test_drop_own_events_passes_on_other_senders_and_the_bots_joins(db, runtime):
    rest = _Recorder()
    join = JoinEvent(membership_id="ms", room_id="room-1", room_type="group", sender=_BOT_SENDER)
    with db.scope() as session:
        for event in (_message(), join):
            middleware.drop_own_events(rest.call(session, runtime, event), rest)
    assert len(rest.calls) == 2 and rest.restarts == []


def test_name_sender_takes_the_name_from_the_directory(db, runtime, clock):
    rest = _Recorder()
    unnamed = Sender(person_id="anna-id", email="anna@acme.example")
    with db.scope() as session:
        directory.touch_person(
            session, email=unnamed.email, person_id=unnamed.person_id, display_name="Anna Jansen", now=clock.now()
        )
        middleware.name_sender(rest.call(session, runtime, _message(sender=unnamed)), rest)
    [call] = rest.calls
    assert call.event.sender.display_name == "Anna Jansen"


def test_name_sender_asks_the_worker_for_an_unknown_name_once(db, runtime):
    rest = _Recorder()
    unnamed = Sender(person_id="new-id", email="new@acme.example")
    with db.scope() as session:
        with pytest.raises(SenderUnnamed):
            middleware.name_sender(rest.call(session, runtime, _message(sender=unnamed)), rest)
        # Asked of Webex already (and Webex had no name either): the event goes on unnamed.
        middleware.name_sender(rest.call(session, runtime, _message(sender=unnamed), name_asked=True), rest)
    assert len(rest.calls) == 1


def test_apologise_answers_a_refusal_with_its_reason(db, runtime):
    def refuse(call: Call) -> None:
        raise Refused("sla.no_ticket", number="INC-1")

    rest = _Recorder(refuse)
    with db.scope() as session:
        middleware.apologise(rest.call(session, runtime, _message()), rest)
        assert _replies(session) == [i18n.t("sla.no_ticket", "en", number="INC-1")]
    assert rest.restarts == [("done", None)]


def test_apologise_answers_a_failing_handler_with_an_apology(db, runtime):
    def fail(call: Call) -> None:
        raise KeyError("boom")

    rest = _Recorder(fail)
    with db.scope() as session:
        middleware.apologise(rest.call(session, runtime, _message()), rest)
        assert _replies(session) == [i18n.t("error.apology", "en")]
    assert rest.restarts == [("failed", "KeyError: 'boom'")]


def test_apologise_says_nothing_where_the_bot_was_removed(db, runtime):
    def fail(call: Call) -> None:
        raise KeyError("boom")

    rest = _Recorder(fail)
    with db.scope() as session:
        middleware.apologise(rest.call(session, runtime, _leave()), rest)
        assert _replies(session) == []
    assert rest.restarts == [("failed", "KeyError: 'boom'")]


def test_apologise_leaves_a_webex_call_that_will_work_later_to_the_worker(db, runtime):
    def lookup(call: Call) -> None:
        raise Transient("Webex answered 503")

    rest = _Recorder(lookup)
    with db.scope() as session, pytest.raises(Transient):
        middleware.apologise(rest.call(session, runtime, _message()), rest)
    assert rest.restarts == []


def test_rate_limit_warns_once_then_holds_back(db, runtime, clock):
    rest = _Recorder()
    with db.scope() as session:
        for _ in range(4):
            middleware.rate_limit(rest.call(session, runtime, _message()), rest)
        [warning] = _replies(session)
    assert len(rest.calls) == 2  # the limit of the stand-in settings
    assert warning.startswith(i18n.t("rate.slow_down", "en", limit=2, time="")[:20])
    clock.advance(timedelta(minutes=2))
    with db.scope() as session:
        middleware.rate_limit(rest.call(session, runtime, _message()), rest)
    assert len(rest.calls) == 3


def test_rate_limit_leaves_unlimited_commands_and_joins_alone(db, runtime):
    runtime.router.command("ack", unlimited=True)(lambda ctx, args: None)
    rest = _Recorder()
    join = JoinEvent(membership_id="ms", room_id="room-1", room_type="group", sender=_BOT_SENDER)
    with db.scope() as session:
        for event in [_message("/ack INC-1")] * 5 + [join]:
            middleware.rate_limit(rest.call(session, runtime, event), rest)
        assert _replies(session) == []
    assert len(rest.calls) == 6


def test_record_metrics_counts_a_handled_command_by_family(db, runtime):
    runtime.router.command("ping")(lambda ctx, args: None)
    rest = _Recorder()
    with db.scope() as session:
        middleware.record_metrics(rest.call(session, runtime, _message()), rest)
    family = "test_middleware"
    assert runtime.metrics.handler_seconds.labels(family=family)._sum.get() >= 0
    assert [
        s.value
        for s in runtime.metrics.command_latency.collect()[0].samples
        if s.name.endswith("_count") and s.labels.get("family") == family
    ] == [1]


def test_record_metrics_does_not_count_a_refused_command(db, runtime):
    def refuse(call: Call) -> None:
        raise Refused("sla.no_ticket", number="INC-1")

    rest = _Recorder(refuse)
    with db.scope() as session, pytest.raises(Refused):
        middleware.record_metrics(rest.call(session, runtime, _message()), rest)
    assert [s for s in runtime.metrics.command_latency.collect()[0].samples if s.name.endswith("_count")] == []


def test_authorise_refuses_a_command_to_someone_without_the_role(db, runtime):
    runtime.router.command("roles", roles=frozenset({"admin"}))(lambda ctx, args: None)
    rest = _Recorder()
    with db.scope() as session:
        with pytest.raises(UserError):
            middleware.authorise(rest.call(session, runtime, _message("/roles")), rest)
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert rest.calls == []


def test_authorise_lets_an_admin_through(db, runtime):
    runtime.router.command("roles", roles=frozenset({"admin"}))(lambda ctx, args: None)
    runtime.settings = runtime.settings.with_(bot_admins=frozenset({ANNA.email}))
    rest = _Recorder()
    with db.scope() as session:
        middleware.authorise(rest.call(session, runtime, _message("/roles")), rest)
    [call] = rest.calls
    assert call.route.name == "roles"


def test_the_chain_runs_the_steps_in_order_around_the_handler(db, runtime):
    seen: list[str] = []

    def step(name: str) -> middleware.Step:
        def run(call: Call, next_step: middleware.Next) -> None:
            seen.append(f"{name} in")
            next_step(call)
            seen.append(f"{name} out")

        return run

    run = middleware.chain([step("a"), step("b")], lambda call: seen.append("handler"))
    with db.scope() as session:
        run(_Recorder().call(session, runtime, _message()))
    assert seen == ["a in", "b in", "handler", "b out", "a out"]


def test_the_standard_order():
    assert [s.__name__ for s in middleware.STEPS] == [
        "drop_own_events",
        "name_sender",
        "apologise",
        "rate_limit",
        "record_metrics",
        "authorise",
    ]


def test_card_presses_are_steps_too(db, runtime):
    pressed: list[dict] = []
    runtime.router.card_action("take", fields={})(lambda ctx, inputs: pressed.append(inputs))
    press = CardSubmitEvent(
        action_id="a1", message_id="card", room_id="room-1", room_type="group", sender=ANNA, inputs={"action": "take"}
    )
    with db.scope() as session:
        middleware.chain()(_Recorder().call(session, runtime, press))
    assert pressed == [{"action": "take"}]
