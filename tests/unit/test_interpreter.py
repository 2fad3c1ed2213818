"""A bot process hands events between threads; it asks the interpreter for short GIL turns."""

import sys

from bot import launch


def test_a_bot_process_switches_threads_every_millisecond():
    before = sys.getswitchinterval()
    try:
        launch.tune_interpreter()
        assert abs(sys.getswitchinterval() - 0.001) < 1e-9
    finally:
        sys.setswitchinterval(before)
