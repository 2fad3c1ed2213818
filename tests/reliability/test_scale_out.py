"""Scale-out on PostgreSQL: gunicorn web processes and separate `run_bot.py worker` processes,
with workers and web processes killed (-9) at random moments, PostgreSQL restarted mid-run,
and Webex failing a fifth of the calls and disabling the webhook during an outage of the web
processes.

The sandbox runs in this process as Webex and delivers signed webhooks to gunicorn, exactly as
Webex would; the commands are a seeded mix (pings, help, SLA questions, ticket lists, the queue,
incidents that open tickets with a staff card, disruptions that notify the customer spaces and
set timers). Every accepted command is handled exactly once, every message the bot meant to
send is in its space, and every timer fired once. A send that may have reached Webex (its
worker killed after the request, a timeout) is sent again, since Webex does not let a bot list
its own messages in a group space: those copies, and nothing else, are the only repeats. The workers run with a 3 s
lease, so a killed worker's rows are taken over within seconds.
"""

# These drills run real gunicorn and worker processes on the system clock, which no settable
# clock reaches: they wait by polling with short sleeps, each bounded by a deadline.

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.launch import register_webhooks
from bot.serving import serve_in_thread
from bot.webex import WebexClient
from rules import load as load_rules
from sandbox.api import create_sandbox_app
from sandbox.demo import (
    ACME_ROOM,
    ANNA_EMAIL,
    BOT_EMAIL,
    BOT_TOKEN,
    BRAM_EMAIL,
    POLDER_ROOM,
    SANNE_EMAIL,
    STAFF_ROOM,
    build_demo_state,
    seed_directory,
)
from storage.db import Database, normalise_url
from storage.migrate import upgrade
from storage.models.runtime import InboxEvent, OutboxMessage, Timer

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = f"servicedesk_drill_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"  # one per test process
SECRET = "drill-secret"
INSTANCE = "drill"
LEASE_S = 3
WEBEX_TIMEOUT_S = 1
CHECK_MINUTES = 0.05  # the webhook watchdog looks every 3 s
ANSWER_TIMEOUT_S = 150
ROOMS = (ACME_ROOM, POLDER_ROOM, STAFF_ROOM)

# (who, where, what, the bot's messages it causes per space); the counts hold whatever came before.
MIX = (
    (ANNA_EMAIL, ACME_ROOM, "/ping", {ACME_ROOM: 1}),
    (BRAM_EMAIL, POLDER_ROOM, "/ping", {POLDER_ROOM: 1}),
    (SANNE_EMAIL, STAFF_ROOM, "/ping", {STAFF_ROOM: 1}),
    (ANNA_EMAIL, ACME_ROOM, "/help", {ACME_ROOM: 1}),
    (BRAM_EMAIL, POLDER_ROOM, "/contact", {POLDER_ROOM: 1}),
    (BRAM_EMAIL, POLDER_ROOM, "/sla P2", {POLDER_ROOM: 1}),
    (ANNA_EMAIL, ACME_ROOM, "/tickets", {ACME_ROOM: 1}),
    (SANNE_EMAIL, STAFF_ROOM, "/queue", {STAFF_ROOM: 1}),
    # The ticket's answer and its countdown in the thread; a card in the staff space. One
    # organisation only, so no disruption is proposed.
    (ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline", {ACME_ROOM: 2, STAFF_ROOM: 1}),
)
# A notice to both customer spaces (both take M2M), the staff's confirmation, and two timers
# that each tell the staff once: "update due in 10 minutes" at once, "overdue" at next_update.
DISRUPTION_TIMERS_S = 30
TIMER_MARKS = {"soon": "⏰", "overdue": "🚨"}


def _disruption(now: datetime) -> tuple[str, str, str, dict[str, int]]:
    due = (now + timedelta(seconds=DISRUPTION_TIMERS_S)).astimezone(UTC)
    words = (
        f'/disruption open services=M2M severity=P2 impact="Slow data" actions="Rerouting" next_steps="Monitor" '
        f"next_update={due:%Y-%m-%dT%H:%M:%S}+00:00"
    )
    return SANNE_EMAIL, STAFF_ROOM, words, {ACME_ROOM: 1, POLDER_ROOM: 1, STAFF_ROOM: 1 + len(TIMER_MARKS)}


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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Deployment:
    """The sandbox Webex, one gunicorn (2 web processes) and two worker processes on one PostgreSQL."""

    def __init__(self, tmp: Path) -> None:
        self.url = _drill_url()
        self.tmp = tmp
        self.db = Database(self.url)
        upgrade(self.db.engine)
        self.state = build_demo_state(bot_token=BOT_TOKEN)
        # The drill measures the deployment at full speed (and injects its own 429s with chaos);
        # Webex's rate limit on the bot's token would set the pace instead.
        self.state.rate_limit.configure(per_second=None)
        self.sandbox = serve_in_thread(create_sandbox_app(self.state), threads=16)
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        with self.db.scope() as session:
            seed_directory(session, self.state, now=self.state.now(), desk=load_rules().desk)
        self.env = {
            **os.environ,
            "WEBEX_ACCESS_TOKEN": BOT_TOKEN,
            "WEBEX_BASE_URL": f"{self.sandbox.url}/v1/",
            "WEBEX_WEBHOOK_SECRET": SECRET,
            "BOT_INSTANCE": INSTANCE,
            "DATABASE_URL": self.url,
            "BOT_RATE_LIMIT": "0",
            "LOG_LEVEL": "WARNING",
            "BOT_LEASE_SECONDS": str(LEASE_S),
            "WEBHOOK_CHECK_MINUTES": str(CHECK_MINUTES),
            "WEBEX_TIMEOUT_SECONDS": str(WEBEX_TIMEOUT_S),
            "BOT_WORKER_NICE": "5",
            "PYTHONPATH": str(ROOT),
        }
        self.port = _free_port()
        self.web_url = f"http://127.0.0.1:{self.port}"
        self.web_starts = 0
        self.start_web()
        register_webhooks(
            WebexClient(access_token=BOT_TOKEN, base_url=f"{self.sandbox.url}/v1/"),
            public_url=self.web_url,
            secret=SECRET,
            instance=INSTANCE,
        )
        self.workers = [self._worker(n) for n in range(2)]
        self.bot_id = self.state.person_by_email(BOT_EMAIL)["id"]
        # (the message, what the bot owes for it, whether the bot answered its webhook 2xx)
        self.posted: list[tuple[dict, dict[str, int], bool]] = []

    def start_web(self) -> None:
        """gunicorn with 2 web processes on this deployment's port; returns once both are booted."""
        self.web_starts += 1
        log = self.tmp / f"gunicorn-{self.web_starts}.log"
        self.web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "2",
                "--threads",
                "4",
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-file",
                str(log),
                "run_bot:wsgi_app()",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.web.poll() is None:
            content = log.read_text() if log.exists() else ""
            if "Listening at: " in content and content.count("Booting worker") >= 2:
                return
            time.sleep(0.05)  # a real process: poll its log
        raise AssertionError(f"gunicorn did not start: {log.read_text() if log.exists() else ''}")

    def stop_web(self) -> None:
        self.web.terminate()
        self.web.wait(timeout=30)

    def _worker(self, n: int) -> subprocess.Popen:
        out = open(self.tmp / f"worker-{n}.log", "a")
        return subprocess.Popen(
            [sys.executable, str(ROOT / "run_bot.py"), "worker"],
            cwd=self.tmp,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def kill_and_restart(self, n: int) -> None:
        self.workers[n].kill()  # SIGKILL: no clean-up, its claims stay leased
        self.workers[n].wait(timeout=10)
        self.workers[n] = self._worker(n)

    def kill_web_process(self, rng: random.Random) -> None:
        """SIGKILL one of gunicorn's web processes; its master starts another in its place."""
        master = self.web.pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        os.kill(int(rng.choice(children)), 9)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if len(Path(f"/proc/{master}/task/{master}/children").read_text().split()) >= 2:
                return
            time.sleep(0.05)  # a real process: poll until gunicorn replaced the killed one
        raise AssertionError("gunicorn did not replace its killed web process")

    def hook(self, resource: str = "messages") -> dict:
        with self.state.lock:
            return next(w for w in self.state.webhooks.values() if w["resource"] == resource)

    def post(self, email: str, room_title: str, words: str) -> tuple[dict, int | None]:
        """Post as a person, mentioning the bot; (the message, the status the bot answered its webhook
        with, None when the delivery failed or Webex sent none because the webhook is disabled)."""
        message = self.state.post_message(
            email, room_id=self.state.room_by_title(room_title)["id"], markdown=f"<@personEmail:{BOT_EMAIL}> {words}"
        )

        def settled() -> bool:
            return (
                any(d["data_id"] == message["id"] for d in self.state.deliveries) or self.hook()["status"] != "active"
            )

        with self.state.changed:
            assert self.state.changed.wait_for(settled, timeout=30), "Webex did not deliver the webhook"
            status = next(
                (d["status_code"] for d in reversed(self.state.deliveries) if d["data_id"] == message["id"]), None
            )
        return message, status

    def command(self, item: tuple[str, str, str, dict[str, int]]) -> dict:
        """Post one command of the mix and note what the bot owes for it, should it take it."""
        email, room, words, causes = item
        message, status = self.post(email, room, words)
        self.posted.append((message, causes, status is not None and 200 <= status < 300))
        return message

    @property
    def accepted(self) -> list[dict]:
        return [message for message, _, accepted in self.posted if accepted]

    @property
    def refused(self) -> list[dict]:
        return [message for message, _, accepted in self.posted if not accepted]

    def handled(self, message: dict) -> bool:
        """Whether the inbox has finished with the command `message` (committed done, ignored or failed)."""
        with self.db.read() as session:
            status = session.scalar(
                select(InboxEvent.status).where(InboxEvent.event_key == f"messages:created:{message['id']}")
            )
        return status in ("done", "ignored", "failed")

    def answers(self, room_title: str) -> list[dict]:
        room_id = self.state.room_by_title(room_title)["id"]
        return [m for m in self.state.messages_in(room_id) if m["personId"] == self.bot_id]

    def counts(self) -> Counter:
        return Counter({room: len(self.answers(room)) for room in ROOMS})

    def quiet(self) -> bool:
        """Nothing left to do: no event, message or due timer unfinished."""
        with self.db.read() as session:
            events = session.scalar(
                select(func.count()).select_from(InboxEvent).where(InboxEvent.status.in_(("pending", "claimed")))
            )
            messages = session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(("pending", "sending")))
            )
            timers = session.scalar(
                select(func.count())
                .select_from(Timer)
                .where(Timer.status == "pending", Timer.kind == "disruption.update_due")
            )
        return events == 0 and messages == 0 and timers == 0

    def wait_for(self, predicate, timeout: float) -> bool:
        with self.state.changed:
            return self.state.changed.wait_for(predicate, timeout=timeout)

    def stop(self) -> None:
        procs = [p for p in [*self.workers, self.web] if p is not None]  # as far as they were started
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.sandbox.stop()
        self.state.close()
        self.db.dispose()


@pytest.fixture
def deployment(tmp_path) -> Iterator[Deployment]:
    deployed = Deployment(tmp_path)
    yield deployed
    deployed.stop()


def _mix(rng: random.Random, count: int, *, disruptions: int = 0) -> Iterator[tuple[str, str, str, dict[str, int]]]:
    """`count` commands drawn from MIX, `disruptions` of them disruptions spread evenly (the
    disruption's timers are set from the moment it is posted)."""
    every = count // disruptions if disruptions else 0
    for i in range(count):
        if every and i % every == every // 2:
            yield _disruption(datetime.now(UTC))
        else:
            yield rng.choice(MIX)


def _settled(deployment: Deployment, *, order: bool = False, watchdog: tuple[int, int] = (0, 0)) -> None:
    """Every command the bot took handled once, every message it queued delivered (a second time
    only where Webex could not tell it had arrived), every timer fired once.

    The bot owes an answer for each command whose event it stored: those it acknowledged, and
    any whose acknowledgement was lost after the commit (Webex saw a failure, the bot has it).
    """
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    while not deployment.quiet() and time.monotonic() < deadline:
        time.sleep(0.25)  # real processes: poll the shared database
    assert deployment.quiet(), "events, messages or timers still unfinished"
    with deployment.db.read() as session:
        events = dict(session.execute(select(InboxEvent.event_key, InboxEvent.status)).all())
    stored = [
        (message, causes) for message, causes, _ in deployment.posted if f"messages:created:{message['id']}" in events
    ]
    assert all(f"messages:created:{m['id']}" in events for m in deployment.accepted), (
        "an acknowledged webhook was not stored"
    )
    assert all(events[f"messages:created:{m['id']}"] == "done" for m, _ in stored)
    assert "failed" not in events.values()
    expected = Counter()
    for _, causes in stored:
        expected.update(causes)
    disruptions = sum(" /disruption open " in m["markdown"] for m, _ in stored)
    pings = Counter(
        room
        for room in ROOMS
        for m, _ in stored
        if m["roomId"] == deployment.state.room_by_title(room)["id"] and " /ping" in m["markdown"]
    )

    def arrived() -> bool:
        counts = deployment.counts()
        return all(counts[room] >= n for room, n in expected.items())

    assert deployment.wait_for(arrived, ANSWER_TIMEOUT_S), (deployment.counts(), expected)
    # Nothing more comes after the lease of any row still held would have run out twice.
    time.sleep(2 * LEASE_S + 1)  # real leases on the system clock run out
    # The watchdog's note that the webhook is active again: the streak's row lets one worker
    # process re-activate it and tell the staff once (the upper bound is from before that). Counted
    # as queued: a copy of its send that may have arrived is counted with the other copies below.
    with deployment.db.read() as session:
        notes = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.purpose == "webhook-check",
                OutboxMessage.room_id == deployment.state.room_by_title(STAFF_ROOM)["id"],
            )
        )
    assert watchdog[0] <= notes <= watchdog[1], notes
    expected[STAFF_ROOM] += notes
    answers = {room: deployment.answers(room) for room in ROOMS}
    with deployment.db.read() as session:
        rows = session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.room_id,
                OutboxMessage.webex_message_id,
                OutboxMessage.status,
                OutboxMessage.purpose,
                OutboxMessage.markdown,
                OutboxMessage.text,
                OutboxMessage.attempts,
                OutboxMessage.last_error,
            )
            .where(OutboxMessage.action == "create")
            .order_by(OutboxMessage.id)
        ).all()
        timers = session.execute(select(Timer.status).where(Timer.kind == "disruption.update_due")).all()
    # Each row sent and recorded once, and what it recorded is in its space.
    assert {row.status for row in rows} == {"sent"}, [row.last_error for row in rows if row.status != "sent"]
    sent_ids = [row.webex_message_id for row in rows]
    assert len(set(sent_ids)) == len(sent_ids)
    recorded = set(sent_ids)
    everything = {m["id"]: m for room in ROOMS for m in answers[room]}
    assert recorded <= set(everything)
    # Webex does not show a bot its own messages in a group space, so a send that may have
    # arrived (its worker killed after the request, a timeout) is sent again. The only extra
    # messages are such copies: the text of a row that took more than one attempt, at most one
    # per extra attempt.
    spare = Counter()
    for row in rows:
        spare[(row.room_id, row.markdown or row.text)] += row.attempts - 1
    copies = Counter(
        (m["roomId"], m.get("markdown") or m.get("text")) for i, m in everything.items() if i not in recorded
    )
    assert not copies - spare, f"messages of the bot that no send explains: {copies - spare}"
    by_room = Counter(
        {
            room: sum(n for (room_id, _), n in copies.items() if room_id == deployment.state.room_by_title(room)["id"])
            for room in ROOMS
        }
    )
    assert deployment.counts() == expected + by_room, "the bot's messages per space"
    answers = {room: [m for m in answers[room] if m["id"] in recorded] for room in ROOMS}
    assert Counter({room: sum(m["markdown"].startswith("pong") for m in answers[room]) for room in ROOMS}) == pings
    # Timers: each disruption's two fired once, and each told the staff once.
    assert len(timers) == len(TIMER_MARKS) * disruptions and {t.status for t in timers} <= {"done"}
    for mark in TIMER_MARKS.values():
        assert sum(m["markdown"].startswith(mark) for m in answers[STAFF_ROOM]) == disruptions
    if order:
        # Per space, Webex has the messages in the order they were queued (the watchdog's note to the
        # staff is queued by another thread at any moment, so it is left out).
        for room in ROOMS:
            room_id = deployment.state.room_by_title(room)["id"]
            queued = [row.webex_message_id for row in rows if row.room_id == room_id and row.purpose != "webhook-check"]
            assert [m["id"] for m in answers[room] if m["id"] in set(queued)] == queued, room


def test_processes_killed_at_random_moments_lose_nothing_and_handle_each_command_once(deployment):
    rng = random.Random(20261123)
    count = 150
    kill_at = sorted(rng.sample(range(10, count - 10), 7))
    web_kills = set(kill_at[1::3])  # two of the seven kills hit a gunicorn web process
    for i, item in enumerate(_mix(rng, count, disruptions=5)):
        deployment.command(item)
        if i in kill_at:
            time.sleep(rng.uniform(0, 0.2))  # somewhere in the work this and the earlier commands caused
            if i in web_kills:
                deployment.kill_web_process(rng)
            else:
                deployment.kill_and_restart(rng.randrange(2))
    # A webhook in flight to a killed web process fails at Webex (which does not send it again);
    # the commands are posted one after the other, so at most one per web kill.
    assert len(deployment.refused) <= len(web_kills)
    _settled(deployment)
    # Workers, the restarted ones too, step back on the CPU for the web processes (BOT_WORKER_NICE=5).
    assert [os.getpriority(os.PRIO_PROCESS, worker.pid) for worker in deployment.workers] == [5, 5]


def _in_step(deployment: Deployment, items, *, pending: dict[str, dict]) -> None:
    """Post commands so that a command waits until the previous one that queued messages in the
    same spaces is handled: then each space's messages are queued in a known order (two
    handlers running at once could take their row numbers in one order and commit in the other),
    and Webex must show them in that order. The outbox still has a backlog: a fifth of the sends fail."""
    for item in items:
        rooms = item[3]
        for previous in {id(m): m for m in (pending.get(room) for room in rooms) if m is not None}.values():
            deadline = time.monotonic() + ANSWER_TIMEOUT_S
            while not deployment.handled(previous) and time.monotonic() < deadline:
                time.sleep(0.02)  # real processes: poll the shared database
            assert deployment.handled(previous), f"command {previous['markdown']!r} not handled"
        message = deployment.command(item)
        pending.update({room: message for room in rooms})


def test_webex_failing_on_a_fifth_of_calls_and_disabling_the_webhook_still_gets_every_answer(deployment):
    rng = random.Random(11)
    # 429 with Retry-After, 500, timeouts (the call takes effect after the bot gave up) and slow
    # answers, on 20 % of the bot's calls to Webex.
    deployment.state.faults.chaos(0.2, seed=11, timeout_s=WEBEX_TIMEOUT_S + 0.5)
    pending: dict[str, dict] = {}
    _in_step(deployment, _mix(rng, 60), pending=pending)

    # An outage of the web processes: Webex's deliveries fail until it disables the webhook.
    deployment.state.delivery.disable_after = 3
    deployment.stop_web()
    hook = deployment.hook()
    for n in range(10):
        deployment.command((ANNA_EMAIL, ACME_ROOM, f"/ping outage {n}", {ACME_ROOM: 1}))
        if hook["status"] != "active":
            break
    assert hook["status"] == "inactive" and deployment.refused
    deployment.start_web()
    # The workers' watchdog sets it active again (and tells the staff); commands flow once more.
    assert deployment.wait_for(lambda: hook["status"] == "active", 60), "the webhook was not set active again"
    _in_step(deployment, _mix(rng, 30), pending=pending)

    _settled(deployment, order=True, watchdog=(1, len(deployment.workers)))
    statuses = Counter(r["status"] for r in deployment.state.requests if r["path"].startswith("/v1/"))
    assert statuses[429] > 0 and statuses[500] > 0


def _postgres_cluster() -> str | None:
    """The version of the local Debian cluster the tests' server is, or None."""
    if os.geteuid() != 0 or shutil.which("pg_ctlcluster") is None or not os.path.isdir("/etc/postgresql"):
        return None
    host = (
        make_url(normalise_url(os.environ.get("TEST_DATABASE_URL", "postgresql://x@127.0.0.1/x"))).host or "localhost"
    )
    if host not in ("127.0.0.1", "localhost", "::1"):
        return None
    clusters = sorted(os.listdir("/etc/postgresql"))
    return clusters[-1] if clusters else None


def _pg_up() -> bool:
    url = make_url(normalise_url(os.environ["TEST_DATABASE_URL"]))
    return (
        subprocess.run(
            ["pg_isready", "-q", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)], timeout=30
        ).returncode
        == 0
    )


@pytest.mark.serial
@pytest.mark.skipif(
    _postgres_cluster() is None,
    reason="restarting PostgreSQL needs root and a local Debian cluster (pg_ctlcluster) at TEST_DATABASE_URL",
)
def test_a_postgres_restart_mid_run_is_recovered_without_help(deployment):
    version = _postgres_cluster()
    rng = random.Random(5)
    restarted = threading.Event()

    def restart() -> None:
        try:
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                check=True,
                timeout=120,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        finally:
            restarted.set()

    try:
        for i, item in enumerate(_mix(rng, 150, disruptions=3)):
            if i == 40:  # while the workers are working off a backlog and webhooks keep coming
                threading.Thread(target=restart, daemon=True).start()
            deployment.command(item)
        assert restarted.wait(120)
        # Webhooks that came while the server was down were refused (Webex does not send them
        # again, and disables the webhook after 100 failures: the watchdog sets it active again);
        # every one the bot acknowledged is handled once.
        assert deployment.wait_for(lambda: deployment.hook()["status"] == "active", 60)
        _settled(deployment, watchdog=(0, len(deployment.workers)))
    finally:
        # The server is shared with the other tests: make sure it is up, whatever happened here.
        restarted.wait(120)
        if not _pg_up():
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                timeout=120,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        for _ in range(60):
            if _pg_up():
                break
            time.sleep(1)  # a real server: poll until it answers
