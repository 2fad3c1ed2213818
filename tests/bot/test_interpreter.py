"""A bot process hands events between threads; it asks the interpreter for short GIL turns, and a
worker process steps back on the CPU for the web processes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import launch


def test_a_bot_process_switches_threads_every_millisecond():
    before = sys.getswitchinterval()
    try:
        launch.tune_interpreter()
        assert abs(sys.getswitchinterval() - 0.001) < 1e-9
    finally:
        sys.setswitchinterval(before)


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.process
@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no Unix process priorities on this platform")
def test_a_worker_process_lowers_its_priority_and_never_raises_it():
    # In a child process: a process cannot take back a priority it gave up.
    code = (
        "from bot.launch import lower_priority; import os; "
        "print(os.getpriority(os.PRIO_PROCESS, 0), lower_priority(7), lower_priority(3), lower_priority(0))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    start = int(out[0])
    assert out[1:] == [str(max(start, 7))] * 3


@pytest.mark.process
def test_a_web_process_under_a_wsgi_server_switches_threads_every_millisecond():
    # In a child process: gunicorn imports run_bot and calls wsgi_app in each web process.
    code = "import sys; from run_bot import wsgi_app; wsgi_app(); print(sys.getswitchinterval())"
    env = {
        **os.environ,
        "WEBEX_ACCESS_TOKEN": "token",
        "WEBEX_WEBHOOK_SECRET": "s3cret",
        "DATABASE_URL": "sqlite://",
        "LOG_LEVEL": "WARNING",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert float(out.split()[-1]) == pytest.approx(0.001)
