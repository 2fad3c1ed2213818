"""The public endpoint under hostile and careless clients: `run_bot.py serve` as its own process,
on SQLite and PostgreSQL, with the sandbox in this process as Webex.

Slow connections, a huge body, signed bodies the database cannot hold, and a scrape of the
metrics from outside: each is sent over raw sockets or `requests` to the real server process.
"""

# The server runs on the system clock in another process: the tests wait on sockets, each wait
# bounded by a deadline.

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from bot.security import sign
from bot.serving import REQUEST_TIMEOUT_S, serve_in_thread
from sandbox.api import create_sandbox_app
from sandbox.demo import BOT_TOKEN, build_demo_state
from storage.db import Database
from storage.models.runtime import InboxEvent

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SECRET = "edge-secret"
READY_TIMEOUT_S = 60
MB = 1024 * 1024


@dataclass
class Served:
    """A `run_bot.py serve` process: its webhook and metrics addresses, its pid and its database."""

    url: str
    metrics_url: str
    pid: int
    db: Database
    output: list[str]

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("http://").split(":")
        return host, int(port)

    def stored(self) -> int:
        with self.db.read() as session:
            return session.scalar(select(func.count()).select_from(InboxEvent))


@pytest.fixture
def served(database_url, tmp_path):
    state = build_demo_state(bot_token=BOT_TOKEN)
    sandbox = serve_in_thread(create_sandbox_app(state))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBEX_", "BOT_", "METRICS_"))}
    env.update(
        WEBEX_ACCESS_TOKEN=BOT_TOKEN,
        WEBEX_BASE_URL=f"{sandbox.url}/v1/",
        WEBEX_WEBHOOK_SECRET=SECRET,
        DATABASE_URL=database_url,
        BOT_PORT="0",
        METRICS_PORT="0",
        WEBHOOK_CHECK_MINUTES="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_bot.py"), "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump():
        for line in proc.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    url = metrics_url = None
    deadline = time.monotonic() + READY_TIMEOUT_S
    while (url is None or metrics_url is None) and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line.startswith("metrics on "):
            metrics_url = line.split()[2].removesuffix("/metrics")
        if line.startswith("listening on "):
            url = line.split()[2].removesuffix("/webhooks/webex")
    if url is None or metrics_url is None:
        proc.kill()
        sandbox.stop()
        pytest.fail("serve did not start:\n" + "".join(output))
    db = Database(database_url)
    yield Served(url=url, metrics_url=metrics_url, pid=proc.pid, db=db, output=output)
    proc.terminate()
    try:
        assert proc.wait(timeout=30) == 0, "".join(output)
    finally:
        proc.kill()
        db.dispose()
        sandbox.stop()
        state.close()


def _envelope(data_id: str = "M-edge", **data) -> dict:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "id": "WH-edge",
        "name": "edge",
        "resource": "messages",
        "event": "created",
        "data": {"id": data_id, "roomId": "R-edge", "personId": "P-edge", "created": now, **data},
    }


def _post_signed(url: str, body: bytes, *, timeout: float = 10) -> requests.Response:
    return requests.post(
        f"{url}/webhooks/webex",
        data=body,
        timeout=timeout,
        headers={"X-Spark-Signature": sign(body, SECRET), "Content-Type": "application/json"},
    )


# -- slow connections ----------------------------------------------------------------------------


class Trickle:
    """Connections that send a request's header lines one every `every` seconds, never finishing it."""

    def __init__(self, address: tuple[str, int], count: int, *, every: float) -> None:
        self.sockets = []
        for _ in range(count):
            sock = socket.create_connection(address, timeout=5)
            sock.sendall(b"POST /webhooks/webex HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n")
            self.sockets.append(sock)
        self.cut: set[int] = set()  # connections the server closed
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        line = 0
        while not self._stop.wait(self.every):
            line += 1
            for index, sock in enumerate(self.sockets):
                if index in self.cut:
                    continue
                try:
                    sock.sendall(f"X-Line-{line}: {'x' * 20}\r\n".encode())
                except OSError:
                    self.cut.add(index)

    def closed_by_server(self, within: float) -> int:
        """How many of the connections the server has closed, waiting up to `within` seconds."""
        deadline = time.monotonic() + within
        for index, sock in enumerate(self.sockets):
            if index in self.cut:
                continue
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if sock.recv(1024) == b"":
                    self.cut.add(index)
            except (ConnectionResetError, BrokenPipeError):
                self.cut.add(index)
            except TimeoutError:
                pass
        return len(self.cut)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.sockets:
            sock.close()


def test_300_slow_connections_lock_nobody_out_and_are_cut_off(served):
    trickle = Trickle(served.address, 300, every=2.0)
    try:
        started = time.monotonic()
        for round_ in range(3):
            time.sleep(1.0)  # real time: the slow clients trickle on meanwhile (a settable clock cannot drive sockets)
            began = time.monotonic()
            health = requests.get(f"{served.url}/healthz", timeout=1)
            health_s = time.monotonic() - began
            body = json.dumps(_envelope(f"M-slow-{round_}")).encode()
            began = time.monotonic()
            delivery = _post_signed(served.url, body, timeout=1)
            delivery_s = time.monotonic() - began
            assert (health.status_code, delivery.status_code) == (200, 200)
            assert health_s < 1 and delivery_s < 1, (round_, health_s, delivery_s)
        assert not trickle.cut, "no slow connection was closed before its time"
        # Still trickling, a line every 2 s: each is closed once its request has taken too long.
        remaining = REQUEST_TIMEOUT_S + 3 - (time.monotonic() - started)
        assert trickle.closed_by_server(within=remaining) == 300
    finally:
        trickle.close()
    assert served.stored() == 3


# -- a huge body ---------------------------------------------------------------------------------


def _peak_rss(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _send_huge(address: tuple[str, int], *, chunked: bool, size: int = 200 * MB) -> str:
    """POST `size` bytes, unsigned, in 1 MB pieces, while reading the answer; its status line."""
    sock = socket.create_connection(address, timeout=30)
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n".encode()
    sock.sendall(
        b"POST /webhooks/webex HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n" + framing + b"\r\n"
    )
    piece = b"x" * MB
    sent = [0]

    def send():
        try:
            for _ in range(size // MB):
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent[0] += MB
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server stopped reading and closed the connection

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = b""
    try:
        while b"\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    finally:
        sender.join(60)
        sock.close()
    return answer.split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_200_mb_body_is_refused_without_being_read(served, chunked):
    requests.get(f"{served.url}/healthz", timeout=5)  # the process has served a request before the baseline
    before = _peak_rss(served.pid)
    status = _send_huge(served.address, chunked=chunked)
    grown = _peak_rss(served.pid) - before
    assert status.startswith("HTTP/1.1 413"), status
    assert grown < 5 * MB, f"peak memory grew by {grown / MB:.1f} MB"
    assert requests.get(f"{served.url}/healthz", timeout=5).status_code == 200
    assert served.stored() == 0


# -- signed bodies the database cannot hold -------------------------------------------------------


def _raw(text: str) -> bytes:
    """A body exactly as written (json.dumps would escape or refuse what these are about)."""
    return text.encode("utf-8")


MALFORMED = {
    "lone-surrogate-id": _raw('{"resource": "messages", "event": "created", "data": {"id": "M\\ud800"}}'),
    "lone-surrogate-elsewhere": _raw(
        '{"resource": "messages", "event": "created", "data": {"id": "M1", "roomId": "R\\udfff"}}'
    ),
    "lone-surrogate-key": _raw('{"resource": "messages", "event": "created", "data": {"id": "M1", "\\ud800": 1}}'),
    "nul-id": _raw('{"resource": "messages", "event": "created", "data": {"id": "M\\u0000"}}'),
    "nul-elsewhere": _raw(
        '{"resource": "messages", "event": "created", "data": {"id": "M1", "personEmail": "a\\u0000@b.c"}}'
    ),
    "nan": _raw('{"resource": "messages", "event": "created", "data": {"id": "M1", "x": NaN}}'),
    "infinity": _raw('{"resource": "messages", "event": "created", "data": {"id": "M1", "x": -Infinity}}'),
    "overflowing-number": _raw('{"resource": "messages", "event": "created", "data": {"id": "M1", "x": 1e400}}'),
    "id-of-2000": _raw(json.dumps({"resource": "messages", "event": "created", "data": {"id": "M" * 2000}})),
    "room-of-2000": _raw(
        json.dumps({"resource": "messages", "event": "created", "data": {"id": "M1", "roomId": "R" * 2000}})
    ),
    "id-with-a-line-break": _raw(
        json.dumps({"resource": "messages", "event": "created", "data": {"id": "M1\nforged log line"}})
    ),
    "id-not-ascii": _raw(
        json.dumps({"resource": "messages", "event": "created", "data": {"id": "Mé"}}, ensure_ascii=False)
    ),
    "nested-30000-deep": _raw(
        '{"resource": "messages", "event": "created", "data": {"id": "M1", "x": ' + "[" * 30000 + "]" * 30000 + "}}"
    ),
    "created-not-a-time": _raw(
        json.dumps({"resource": "messages", "event": "created", "data": {"id": "M1", "created": "yesterday"}})
    ),
}


def test_signed_bodies_no_database_can_hold_are_refused_with_400(served):
    # One server for all of them: each must be refused, and the server must go on after each.
    answers = {}
    for name, body in MALFORMED.items():
        response = _post_signed(served.url, body)
        answers[name] = (response.status_code, served.stored())
    assert answers == {name: (400, 0) for name in MALFORMED}
    assert _post_signed(served.url, json.dumps(_envelope()).encode()).status_code == 200
    assert served.stored() == 1


# -- metrics -------------------------------------------------------------------------------------


def test_metrics_are_not_on_the_public_port_but_on_their_own_loopback_address(served):
    assert requests.get(f"{served.url}/metrics", timeout=5).status_code == 404
    assert served.metrics_url.startswith("http://127.0.0.1:"), served.output
    scraped = requests.get(f"{served.metrics_url}/metrics", timeout=5)
    assert scraped.status_code == 200
    assert "servicedesk_inbox_events" in scraped.text
    # Only the metrics: the webhook is not served there.
    assert requests.post(f"{served.metrics_url}/webhooks/webex", timeout=5).status_code == 404
