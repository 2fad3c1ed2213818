"""The door: workers wait between steps while a webhook request is in flight, but never long."""

from __future__ import annotations

import threading
import time

from bot.app import Door


def test_a_worker_waits_at_the_door_until_the_request_inside_leaves():
    door = Door()
    left = threading.Event()
    waited: list[bool] = []

    def worker() -> None:
        door.wait_clear(timeout=10)
        waited.append(left.is_set())

    with door:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(0.2)
        assert thread.is_alive()  # held at the door
        left.set()
    thread.join(10)
    assert waited == [True]


def test_the_wait_is_bounded_and_an_empty_door_does_not_wait():
    door = Door()
    started = time.monotonic()
    door.wait_clear(timeout=10)
    assert time.monotonic() - started < 1
    with door, door:  # two requests; one leaves, one stays
        pass
    with door:
        started = time.monotonic()
        door.wait_clear(timeout=0.05)
        assert 0.04 <= time.monotonic() - started < 1
