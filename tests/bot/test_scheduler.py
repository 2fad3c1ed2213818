"""Timers: fire once at their instant, survive restarts, retry a failing handler, keys dedupe."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.scheduler import Scheduler, TimerRegistry, cancel, schedule
from storage.models.runtime import Timer


@pytest.fixture
def registry():
    reg = TimerRegistry()
    fired = []

    @reg.handler("test.fire")
    def fire(ctx, timer):
        fired.append((timer.ref, ctx.now))

    @reg.handler("test.boom")
    def boom(ctx, timer):
        ctx.session.add(
            Timer(
                kind="test.fire",
                ref="side-effect",
                due_at=ctx.now,
                payload={},
                status="pending",
                attempts=0,
                created_at=ctx.now,
            )
        )
        ctx.session.flush()
        raise RuntimeError("handler bug")

    reg.fired = fired
    return reg


def _schedule(db, clock, **kw):
    with db.scope() as s:
        timer = schedule(s, now=clock.now(), **kw)
        s.flush()  # the id comes with the row's INSERT
        return timer.id


def test_fires_at_its_instant_and_once(db, clock, registry):
    due = clock.now() + timedelta(minutes=5)
    _schedule(db, clock, kind="test.fire", ref="INC-1001", due_at=due)
    scheduler = Scheduler(db, clock, worker_id="w1", registry=registry)
    assert scheduler.run_due(due - timedelta(microseconds=1)) == 0
    assert registry.fired == []
    assert scheduler.run_due(due) == 1
    assert registry.fired == [("INC-1001", due)]
    # A second scheduler (another process after a restart) finds nothing left.
    assert Scheduler(db, clock, worker_id="w2", registry=registry).run_due(due + timedelta(hours=1)) == 0
    assert registry.fired == [("INC-1001", due)]


def test_fires_in_due_order(db, clock, registry):
    for minutes, ref in ((9, "c"), (3, "a"), (6, "b")):
        _schedule(db, clock, kind="test.fire", ref=ref, due_at=clock.now() + timedelta(minutes=minutes))
    Scheduler(db, clock, worker_id="w", registry=registry).run_due(clock.now() + timedelta(minutes=10))
    assert [ref for ref, _ in registry.fired] == ["a", "b", "c"]


def test_key_keeps_one_timer(db, clock, registry):
    first = _schedule(db, clock, kind="test.fire", ref="x", due_at=clock.now(), key="sla:INC-1001:75")
    second = _schedule(
        db, clock, kind="test.fire", ref="x", due_at=clock.now() + timedelta(hours=1), key="sla:INC-1001:75"
    )
    assert first == second
    assert Scheduler(db, clock, worker_id="w", registry=registry).run_due(clock.now() + timedelta(days=1)) == 1


def test_timers_planned_and_cancelled_in_one_transaction_never_fire(db, clock, registry):
    # A ticket re-planned twice in one command: the timers of the first plan are not written
    # yet when the second cancels them.
    with db.scope() as s:
        for minutes in (5, 10):
            schedule(
                s, kind="test.fire", ref="INC-1003", due_at=clock.now() + timedelta(minutes=minutes), now=clock.now()
            )
        assert cancel(s, kind="test.fire", ref="INC-1003") == 2
        schedule(s, kind="test.fire", ref="INC-1003", due_at=clock.now() + timedelta(minutes=15), now=clock.now())
    assert Scheduler(db, clock, worker_id="w", registry=registry).run_due(clock.now() + timedelta(hours=1)) == 1
    assert len(registry.fired) == 1


def test_cancelled_timer_never_fires(db, clock, registry):
    _schedule(db, clock, kind="test.fire", ref="INC-1002", due_at=clock.now())
    with db.scope() as s:
        assert cancel(s, kind="test.fire", ref="INC-1002") == 1
    assert Scheduler(db, clock, worker_id="w", registry=registry).run_due() == 0
    assert registry.fired == []


def test_failing_handler_is_rolled_back_recorded_and_retried(db, clock, registry):
    timer_id = _schedule(db, clock, kind="test.boom", ref="INC-1003", due_at=clock.now())
    scheduler = Scheduler(db, clock, worker_id="w", registry=registry)
    assert scheduler.run_once() == 1
    with db.scope() as s:
        timer = s.get(Timer, timer_id)
        assert (timer.status, timer.attempts, timer.error) == ("pending", 1, "RuntimeError: handler bug")
        assert timer.due_at == clock.now() + timedelta(seconds=30)
        # The handler's own writes were undone with it.
        assert s.scalars(select(Timer).where(Timer.ref == "side-effect")).all() == []
    for hour in range(1, 5):
        assert scheduler.run_due(clock.now() + timedelta(hours=hour)) == 1
    with db.scope() as s:
        assert s.get(Timer, timer_id).status == "failed"


def test_unknown_kind_is_marked_failed(db, clock, registry):
    timer_id = _schedule(db, clock, kind="test.unknown", ref="x", due_at=clock.now())
    assert Scheduler(db, clock, worker_id="w", registry=registry).run_due() == 1
    with db.scope() as s:
        assert s.get(Timer, timer_id).status == "failed"


def test_naive_due_time_is_refused(db, clock):
    with pytest.raises(ValueError, match="naive"):
        _schedule(db, clock, kind="test.fire", ref="x", due_at=clock.now().replace(tzinfo=None))


def test_duplicate_kind_registration_fails(registry):
    with pytest.raises(RuntimeError, match="registered twice"):
        registry.handler("test.fire")(lambda ctx, t: None)
