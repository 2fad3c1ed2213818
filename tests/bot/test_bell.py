"""The bell that wakes idle worker threads: one thread per ring, rings kept while all are busy."""

from __future__ import annotations

import threading

from bot.app import Bell


def _waiters(bell: Bell, n: int, woken: list[int]) -> list[threading.Thread]:
    def wait(k: int) -> None:
        if bell.wait(timeout=5):
            woken.append(k)

    threads = [threading.Thread(target=wait, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    return threads


def test_one_ring_wakes_one_thread():
    bell, woken = Bell(), []
    threads = _waiters(bell, 3, woken)
    for thread in threads:
        thread.join(0.1)
    bell.ring()
    threads[0].join(0.5)
    for thread in threads:
        thread.join(0.2)
    assert len(woken) == 1  # the other two are still waiting
    bell.ring_all()
    for thread in threads:
        thread.join(5)
    assert sorted(woken) == [0, 1, 2]


def test_a_ring_while_nobody_waits_is_kept_up_to_the_cap():
    bell = Bell(cap=2)
    bell.ring(5)
    assert bell.is_set()
    assert bell.wait(timeout=0) and bell.wait(timeout=0)
    assert not bell.wait(timeout=0) and not bell.is_set()
