"""Steps a test takes with the harness, and times on the desk's wall clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.clock import AMSTERDAM
from tests.harness.harness import Harness


def local(*parts: int) -> datetime:
    """An Amsterdam wall-clock time: local(2026, 1, 9, 17, 0)."""
    return datetime(*parts, tzinfo=AMSTERDAM)


def ask(harness: Harness, email: str, room_title: str, text: str, **kw: Any) -> dict[str, Any]:
    """Say `text` to the bot in a space, let it work, and return its last message there."""
    harness.say(email, room_title, text, **kw)
    harness.run()
    return harness.bot_messages(room_title)[-1]


def answer(harness: Harness, email: str, room_title: str, text: str, **kw: Any) -> str:
    """The markdown of the bot's last message after `ask`."""
    return ask(harness, email, room_title, text, **kw)["markdown"]


def tick(harness: Harness, instant: datetime) -> None:
    """Move the clock, fire what is due, send what that queued."""
    harness.clock.set(instant)
    harness.scheduler.run_due()
    harness.run()


def race(db, first: Callable[[Any], Any], second: Callable[[Any], Any]) -> tuple[Any, Any]:
    """Run `first(session)` in a transaction, and while it is still open `second(session)` in
    another (which then waits for the first's rows, or on SQLite its lock), then let the first
    commit; (first's result, second's result). Raises what either raised."""
    first_done, let_first_commit = threading.Event(), threading.Event()
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run_first() -> None:
        try:
            with db.scope() as session:
                results["first"] = first(session)
                first_done.set()
                let_first_commit.wait(10)
        except BaseException as exc:  # raised below
            errors.append(exc)
            first_done.set()

    def run_second() -> None:
        try:
            with db.scope() as session:
                results["second"] = second(session)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run_first)]
    threads[0].start()
    assert first_done.wait(10)
    threads.append(threading.Thread(target=run_second))
    threads[1].start()
    threads[1].join(0.3)  # the second is now waiting on the first
    let_first_commit.set()
    for thread in threads:
        thread.join(10)
    if errors:
        raise errors[0]
    return results["first"], results["second"]
