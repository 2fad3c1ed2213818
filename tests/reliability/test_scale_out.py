"""Scale-out on PostgreSQL: gunicorn web processes and separate worker processes, with workers
killed (-9) at random moments, PostgreSQL restarted mid-run, and Webex failing a fifth of the
calls. Every accepted command is answered exactly once.

The sandbox runs in this process as Webex and delivers signed webhooks to gunicorn, exactly as
Webex would; the workers are `run_bot.py worker` processes with a short lease, so a killed
worker's rows are taken over within seconds.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.launch import register_webhooks
from bot.sandbox.api import create_sandbox_app
from bot.sandbox.demo import (ACME_ROOM, ANNA_EMAIL, BOT_EMAIL, BOT_TOKEN, BRAM_EMAIL, POLDER_ROOM, SANNE_EMAIL, STAFF_ROOM,
                              build_demo_state, seed_directory)
from bot.serving import serve_in_thread
from bot.webex import WebexClient
from storage.db import Database, normalise_url
from storage.migrate import upgrade
from storage.models import InboxEvent, OutboxMessage

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "servicedesk_drill"
SECRET = "drill-secret"
LEASE_S = 3
WEBEX_TIMEOUT_S = 1
ANSWER_TIMEOUT_S = 120
SPEAKERS = ((ANNA_EMAIL, ACME_ROOM), (BRAM_EMAIL, POLDER_ROOM), (SANNE_EMAIL, STAFF_ROOM))


def _drill_url() -> str:
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        pytest.skip("TEST_DATABASE_URL is not set (set it to a PostgreSQL URL to run the scale-out drills)")
    url = make_url(normalise_url(raw))
    if url.get_backend_name() != "postgresql":
        pytest.skip("the scale-out drills need PostgreSQL")
    database = Database(url.render_as_string(hide_password=False))
    try:
        with database.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    except Exception as exc:
        pytest.skip(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {type(exc).__name__}")
    finally:
        database.dispose()
    return url.update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(hide_password=False)


class Deployment:
    """The sandbox Webex, one gunicorn (2 web processes) and two worker processes on one PostgreSQL."""

    def __init__(self, tmp: Path) -> None:
        self.url = _drill_url()
        self.db = Database(self.url)
        upgrade(self.db.engine)
        self.state = build_demo_state(bot_token=BOT_TOKEN)
        self.sandbox = serve_in_thread(create_sandbox_app(self.state), threads=16)
        with self.db.scope() as session:
            seed_directory(session, self.state, now=self.state.now())
        self.env = {**os.environ, "WEBEX_ACCESS_TOKEN": BOT_TOKEN, "WEBEX_BASE_URL": f"{self.sandbox.url}/v1/",
                    "WEBEX_WEBHOOK_SECRET": SECRET, "DATABASE_URL": self.url, "BOT_RATE_LIMIT": "0", "LOG_LEVEL": "WARNING",
                    "BOT_LEASE_SECONDS": str(LEASE_S), "WEBHOOK_CHECK_MINUTES": "0",
                    "WEBEX_TIMEOUT_SECONDS": str(WEBEX_TIMEOUT_S), "PYTHONPATH": str(ROOT)}
        self.tmp = tmp
        self.web = self._gunicorn()
        register_webhooks(WebexClient(access_token=BOT_TOKEN, base_url=f"{self.sandbox.url}/v1/"), public_url=self.web_url,
                          secret=SECRET)
        self.workers = [self._worker(n) for n in range(2)]
        self.bot_id = self.state.person_by_email(BOT_EMAIL)["id"]

    def _gunicorn(self) -> subprocess.Popen:
        log = self.tmp / "gunicorn.log"
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0", "--log-file", str(log),
                                 "bot.wsgi:make_app()"], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        ready = threading.Event()
        port: list[str] = []

        def watch() -> None:
            while not ready.is_set() and proc.poll() is None:
                content = log.read_text() if log.exists() else ""
                if "Listening at: " in content and content.count("Booting worker") >= 2:
                    port.append(content.split("Listening at: ")[1].split()[0])
                    ready.set()
                else:
                    ready.wait(0.05)

        threading.Thread(target=watch, daemon=True).start()
        assert ready.wait(60) and port, f"gunicorn did not start: {log.read_text() if log.exists() else ''}"
        self.web_url = port[0]
        return proc

    def _worker(self, n: int) -> subprocess.Popen:
        out = open(self.tmp / f"worker-{n}.log", "a")
        return subprocess.Popen([sys.executable, str(ROOT / "run_bot.py"), "worker"], cwd=self.tmp, env=self.env, stdout=out,
                                stderr=subprocess.STDOUT)

    def kill_and_restart(self, n: int) -> None:
        self.workers[n].send_signal(signal.SIGKILL)
        self.workers[n].wait(timeout=10)
        self.workers[n] = self._worker(n)

    def post(self, email: str, room_title: str, words: str) -> dict:
        message = self.state.post_message(email, room_id=self.state.room_by_title(room_title)["id"],
                                          markdown=f"<@personEmail:{BOT_EMAIL}> {words}")
        return message

    def answers(self, room_title: str) -> list[dict]:
        room_id = self.state.room_by_title(room_title)["id"]
        return [m for m in self.state.messages_in(room_id) if m["personId"] == self.bot_id]

    def wait_for(self, predicate, timeout: float) -> bool:
        with self.state.changed:
            return self.state.changed.wait_for(predicate, timeout=timeout)

    def stop(self) -> None:
        for proc in [*self.workers, self.web]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, self.web]:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.sandbox.stop()
        self.state.close()
        self.db.dispose()


@pytest.fixture
def deployment(tmp_path) -> Iterator[Deployment]:
    deployed = Deployment(tmp_path)
    yield deployed
    deployed.stop()


def _send_pings(deployment: Deployment, count: int, *, during=None) -> dict[str, int]:
    """Post `count` pings spread over the speakers' spaces; `during(i)` runs between posts."""
    sent = {room: 0 for _, room in SPEAKERS}
    for i in range(count):
        email, room = SPEAKERS[i % len(SPEAKERS)]
        message = deployment.post(email, room, f"/ping {i}")
        assert deployment.state.wait_delivered(message["id"], timeout=30)
        sent[room] += 1
        if during is not None:
            during(i)
    return sent


def _all_answered_exactly_once(deployment: Deployment, sent: dict[str, int]) -> None:
    def answered() -> bool:
        return all(len(deployment.answers(room)) >= n for room, n in sent.items())

    assert deployment.wait_for(answered, ANSWER_TIMEOUT_S), {room: len(deployment.answers(room)) for room in sent}
    # Nothing more comes after the lease of any row still held has run out twice.
    assert not deployment.wait_for(lambda: any(len(deployment.answers(room)) > n for room, n in sent.items()), 2 * LEASE_S + 2)
    assert {room: len(deployment.answers(room)) for room in sent} == sent
    assert all(m["markdown"].startswith("pong") for room in sent for m in deployment.answers(room))
    with deployment.db.read() as session:
        statuses = dict(session.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status)).all())
        unsent = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent"))
    # Every command was handled once; the bot's own messages, which Webex also announces, may still
    # be waiting to be ignored when a killed worker held them.
    assert statuses.get("failed", 0) == 0 and statuses["done"] == sum(sent.values()) and unsent == 0


def test_workers_killed_at_random_moments_lose_and_repeat_nothing(deployment):
    rng = random.Random(20261123)
    kill_at = set(rng.sample(range(10, 140), 5))

    def maybe_kill(i: int) -> None:
        if i in kill_at:
            deployment.kill_and_restart(rng.randrange(2))

    sent = _send_pings(deployment, 150, during=maybe_kill)
    _all_answered_exactly_once(deployment, sent)


def test_webex_failing_on_a_fifth_of_calls_still_gets_every_answer_once(deployment):
    # 429 with Retry-After, 500, timeouts (the call takes effect after the bot gave up) and slow
    # answers, on 20 % of the workers' calls to Webex.
    deployment.state.faults.chaos(0.2, seed=11, timeout_s=WEBEX_TIMEOUT_S + 0.5)
    sent = _send_pings(deployment, 90)
    _all_answered_exactly_once(deployment, sent)
    statuses = [r["status"] for r in deployment.state.requests if r["path"].startswith("/v1/")]
    assert statuses.count(429) > 0 and statuses.count(500) > 0


def _restart_postgres() -> None:
    clusters = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1], "main", "restart"], check=True, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("pg_ctlcluster") is None or not os.path.isdir("/etc/postgresql"),
                    reason="restarting PostgreSQL needs root and a local Debian cluster (pg_ctlcluster)")
def test_a_postgres_restart_mid_run_is_recovered_without_help(deployment):
    before = _send_pings(deployment, 60)
    _restart_postgres()  # while the workers are still working the backlog off
    after = _send_pings(deployment, 60)
    _all_answered_exactly_once(deployment, {room: before[room] + after[room] for room in before})
