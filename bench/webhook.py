"""Webhook benchmark: acknowledge and end-to-end latency of `/ping`, the bot against a bare floor.

Each target runs as its own process (`run_bot.py serve`, or bench/floor_app.py) against a
sandbox Webex in a third process on loopback, started afresh per target. The bench creates
one thread per ping, spread over S group spaces (replies within a space are sent strictly in
order, one at a time, so a single space is limited by Webex's answer time, not by the bot),
then sends N signed `messages/created` webhooks to the target itself, open-loop at a fixed
rate, and records:
  - acknowledge latency: webhook POST sent → HTTP answer received;
  - end to end: webhook POST sent → the reply exists at the sandbox (seen on its event feed).
The floor (bench/floor_app.py) GETs the message and POSTs the reply inside the request.

    python bench/webhook.py [--n 2000] [--rate 200] [--spaces 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.security import sign  # noqa: E402
from sandbox.demo import ANNA_EMAIL, BOT_EMAIL, BOT_TOKEN, token_for  # noqa: E402

SECRET = "bench-secret"
READY_TIMEOUT_S = 60


def _start(cmd: list[str], *, cwd: str, env: dict[str, str], ready: str) -> tuple[subprocess.Popen, str]:
    """Start a process and wait for its line starting with `ready`; returns it and the URL on that line."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line.startswith(ready):
            url = line[len(ready) :].split()[0]
            return proc, url.removesuffix("/v1/").removesuffix("/webhooks/webex")
    proc.kill()
    raise RuntimeError(f"{cmd} did not become ready")


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class ReplyWatcher:
    """Follows the sandbox's event feed and notes when each thread gets its reply."""

    def __init__(self, base: str, bot_id: str, thread_of: Callable[[dict], str | None] | None = None) -> None:
        self.base, self.bot_id = base, bot_id
        self.thread_of = thread_of or (lambda message: message.get("parentId"))
        self.seen: dict[str, float] = {}  # thread → when its first reply was seen
        self.done: dict[str, float] = {}  # thread → when it had every reply it is owed
        self.owed: dict[str, int] = {}
        self.replies: dict[str, int] = {}  # thread → bot replies in it (more than owed: sent twice)
        self.stop = threading.Event()
        self.since = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        # Start after the set-up messages so only replies are seen.
        self.since = requests.get(
            f"{self.base}/_sandbox/events", params={"since": 10**12, "timeout": 0}, timeout=10
        ).json()["seq"]
        self.thread.start()

    def _run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            try:
                body = session.get(
                    f"{self.base}/_sandbox/events", params={"since": self.since, "timeout": 1}, timeout=10
                ).json()
            except (requests.RequestException, ValueError) as exc:
                # A poll that times out on a saturated machine must not end the watching: the
                # replies would then count as missing. Poll again from the same cursor.
                print(f"reply watcher: poll failed ({type(exc).__name__}), polling again", file=sys.stderr)
                continue
            now = time.perf_counter()
            for event in body["events"]:
                message = event["message"]
                thread = (
                    self.thread_of(message)
                    if event["kind"] == "created" and message["personId"] == self.bot_id
                    else None
                )
                if thread is not None:
                    self.seen.setdefault(thread, now)
                    self.replies[thread] = self.replies.get(thread, 0) + 1
                    if self.replies[thread] >= self.owed.get(thread, 1):
                        self.done.setdefault(thread, now)
            self.since = body["seq"]

    def wait_for(self, owed: dict[str, int], timeout: float) -> None:
        """Until every thread has the replies it is owed, or `timeout`."""
        self.owed = owed
        deadline = time.perf_counter() + timeout
        while len(self.done) < len(owed) and time.perf_counter() < deadline:
            self.stop.wait(0.05)
        self.stop.set()


def run_one(
    label: str,
    base: str,
    target: str,
    *,
    n: int,
    rate: float,
    spaces: int,
    concurrency: int,
    duplicates: float = 0.0,
    settle_s: float = 0.0,
    command: Callable[[int], tuple[str, int]] | None = None,
    prepare: Callable[[list[str]], None] | None = None,
    thread_of: Callable[[dict[str, str], dict], str | None] | None = None,
    answer_wait_s: float = 120.0,
) -> dict:
    """Drive one target (bot or floor) at `target`, with the sandbox at `base`; return its figures.

    `duplicates`: the share of webhooks delivered a second time (as Webex may); `settle_s`: how
    long to keep watching after the last reply, so a reply sent twice is seen; `command(i)`: the
    i-th command's words and how many messages the bot answers it with in its thread (default
    `/ping`, one); `prepare(room_ids)`: set up the spaces before the load (bind them to an org);
    `thread_of(words_by_thread, message)`: which command's thread a message of the bot answers
    (default: the thread it is posted in); `answer_wait_s`: how long to wait for the answers
    after the last webhook (0: acknowledgements only).
    """
    command = command or (lambda i: ("/ping", 1))
    # Dozens of sending threads and the reply watcher share this process's GIL: hand it over
    # within 1 ms, not Python's 5, so the generator's own waits stay out of the acknowledgements.
    sys.setswitchinterval(0.001)
    bot = requests.get(f"{base}/v1/people/me", headers={"Authorization": f"Bearer {BOT_TOKEN}"}, timeout=10).json()
    anna = {"Authorization": f"Bearer {token_for(ANNA_EMAIL)}"}
    room_ids = []
    for k in range(spaces):
        room = requests.post(f"{base}/v1/rooms", json={"title": f"Bench {k}"}, headers=anna, timeout=10).json()
        requests.post(
            f"{base}/v1/memberships", json={"roomId": room["id"], "personEmail": BOT_EMAIL}, headers=anna, timeout=10
        )
        room_ids.append(room["id"])
    if prepare is not None:
        prepare(room_ids)

    pings = []
    owed: dict[str, int] = {}  # thread → the messages the bot owes in it
    words_by_thread: dict[str, str] = {}
    for i in range(n):
        room_id = room_ids[i % spaces]
        root = requests.post(
            f"{base}/_sandbox/post", json={"as": ANNA_EMAIL, "roomId": room_id, "markdown": f"thread {i}"}, timeout=10
        ).json()
        words, answers = command(i)
        ping = requests.post(
            f"{base}/_sandbox/post",
            json={
                "as": ANNA_EMAIL,
                "roomId": room_id,
                "parentId": root["id"],
                "markdown": f"<@personEmail:{BOT_EMAIL}> {words}",
            },
            timeout=10,
        ).json()
        pings.append(ping)
        owed[root["id"]] = answers
        words_by_thread[root["id"]] = words

    watcher = ReplyWatcher(
        base, bot["id"], (lambda message: thread_of(words_by_thread, message)) if thread_of else None
    )
    watcher.start()
    local = threading.local()
    sent_at: dict[str, float] = {}
    acks: list[float] = []
    failures = 0
    lock = threading.Lock()

    # Bodies are signed before the clock starts; each sending thread keeps one keep-alive connection
    # (plain http.client: the load generator shares the cores with what it measures).
    host, port = urlsplit(target).hostname, urlsplit(target).port

    def signed(ping: dict) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "id": "bench",
                "name": "bench",
                "resource": "messages",
                "event": "created",
                "data": {
                    "id": ping["id"],
                    "roomId": ping["roomId"],
                    "roomType": "group",
                    "personId": ping["personId"],
                    "personEmail": ping["personEmail"],
                },
            }
        ).encode()
        return body, {"X-Spark-Signature": sign(body, SECRET), "Content-Type": "application/json"}

    def post(body: bytes, headers: dict[str, str], *, again: bool = True) -> int:
        """POST on this thread's connection; once more on a fresh one if the kept one was closed."""
        if getattr(local, "conn", None) is None:
            local.conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            local.conn.request("POST", "/webhooks/webex", body=body, headers=headers)
            resp = local.conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException):
            local.conn.close()
            local.conn = None
            if not again:
                raise
            return post(body, headers, again=False)
        if resp.getheader("Connection", "").lower() == "close":
            local.conn.close()
            local.conn = None
        return resp.status

    def fire(ping: dict, body: bytes, headers: dict[str, str]) -> None:
        nonlocal failures
        start = time.perf_counter()
        sent_at.setdefault(ping["parentId"], start)
        try:
            status = post(body, headers)
        except (OSError, http.client.HTTPException):
            status = 0
        took = time.perf_counter() - start
        with lock:
            if status == 200:
                acks.append(took)
            else:
                failures += 1

    # A repeated delivery follows its original five webhooks later.
    again = set(range(0, n, round(1 / duplicates))) if duplicates > 0 else set()
    schedule = []
    for i, ping in enumerate(pings):
        schedule.append((ping, *signed(ping)))
        if i - 5 in again:
            schedule.append((pings[i - 5], *signed(pings[i - 5])))
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for k, (ping, body, headers) in enumerate(schedule):
            if rate > 0:
                delay = began + k / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)  # open-loop pacing of the load generator
            pool.submit(fire, ping, body, headers)
    sending = time.perf_counter() - began
    watcher.wait_for(owed, timeout=answer_wait_s)
    watcher.thread.join(timeout=10)
    if settle_s and answer_wait_s:
        watcher.stop.clear()
        watcher.thread = threading.Thread(target=watcher._run, daemon=True)
        watcher.thread.start()
        watcher.stop.wait(settle_s)
        watcher.stop.set()
        watcher.thread.join(timeout=10)
    # End to end: until the last message the command owes (a ticket's answer and its countdown).
    e2e = [watcher.done[k] - sent_at[k] for k in sent_at if k in watcher.done]
    by_words: dict[str, list[float]] = {}
    for k in sent_at:
        if k in watcher.done:
            by_words.setdefault(words_by_thread[k].split()[0], []).append(watcher.done[k] - sent_at[k])
    if os.environ.get("LOAD_DEBUG"):
        for k in owed:
            if k not in watcher.done:
                print(
                    f"unanswered: {words_by_thread[k]} ({watcher.replies.get(k, 0)} of {owed[k]} answers)",
                    file=sys.stderr,
                )
    return {
        "label": label,
        "n": n,
        "rate": rate,
        "acked": len(acks),
        "failed": failures,
        "replied": len(e2e),
        "sent": len(schedule),
        "doubled": sum(1 for k, count in watcher.replies.items() if count > owed.get(k, 1)),
        "acks_per_s": len(acks) / sending,
        "ack_p50_ms": _percentile(acks, 50) * 1000,
        "ack_p99_ms": _percentile(acks, 99) * 1000,
        "e2e_p50_ms": _percentile(e2e, 50) * 1000,
        "e2e_p99_ms": _percentile(e2e, 99) * 1000,
        "e2e_by_command": {
            words: (len(times), _percentile(times, 50) * 1000, _percentile(times, 99) * 1000)
            for words, times in sorted(by_words.items())
        },
    }


def main() -> None:
    """Run the bot and the floor, print both and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="webhooks per run")
    parser.add_argument("--rate", type=float, default=200.0, help="webhooks per second (0: as fast as possible)")
    parser.add_argument("--spaces", type=int, default=20, help="group spaces the pings are spread over")
    parser.add_argument("--concurrency", type=int, default=16, help="load generator threads")
    parser.add_argument("--database-url", default=None, help="bot database, empty (default: a new SQLite file)")
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        # One demo person sends every ping, so the per-person command limit is off here.
        env = {
            **os.environ,
            "WEBEX_WEBHOOK_SECRET": SECRET,
            "BOT_PORT": "0",
            "METRICS_PORT": "0",
            "LOG_LEVEL": "WARNING",
            "BOT_RATE_LIMIT": "0",
        }
        env.pop("WEBEX_ACCESS_TOKEN", None)
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        else:
            env.pop("DATABASE_URL", None)
        env["PYTHONPATH"] = str(ROOT)
        targets = (
            ("bot", [sys.executable, str(ROOT / "run_bot.py"), "serve"], "listening on "),
            ("floor", [sys.executable, str(ROOT / "bench" / "floor_app.py"), "--secret", SECRET], "listening on "),
        )
        for label, cmd, ready in targets:
            sandbox, base = _start(
                [sys.executable, str(ROOT / "bench" / "sandbox_app.py")],
                cwd=tmp,
                env=env,
                ready="sandbox ready: Webex API ",
            )
            run_env = {**env, "WEBEX_ACCESS_TOKEN": BOT_TOKEN, "WEBEX_BASE_URL": f"{base}/v1/"}
            if label == "floor":
                cmd = [*cmd, "--webex-base", f"{base}/v1/"]
            proc, target = _start(cmd, cwd=tmp, env=run_env, ready=ready)
            try:
                results.append(
                    run_one(
                        label, base, target, n=args.n, rate=args.rate, spaces=args.spaces, concurrency=args.concurrency
                    )
                )
            finally:
                for p in (proc, sandbox):
                    p.terminate()
                    p.wait(timeout=30)

    db = "PostgreSQL" if args.database_url and args.database_url.startswith("postgres") else "SQLite"
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    print(
        f"# bench/webhook.py  {when}  {platform.node()}  {platform.machine()}  {os.cpu_count()} cores  "
        f"Python {platform.python_version()}  {db}  n={args.n} rate={args.rate:g}/s spaces={args.spaces}"
    )
    print(
        f"{'target':<6} {'acked':>6} {'failed':>6} {'replied':>7} {'ack/s':>7} {'ack p50':>8} {'ack p99':>8} {'e2e p50':>8} {'e2e p99':>8}"
    )
    for r in results:
        print(
            f"{r['label']:<6} {r['acked']:>6} {r['failed']:>6} {r['replied']:>7} {r['acks_per_s']:>7.0f} "
            f"{r['ack_p50_ms']:>6.1f}ms {r['ack_p99_ms']:>6.1f}ms {r['e2e_p50_ms']:>6.1f}ms {r['e2e_p99_ms']:>6.1f}ms"
        )
    bot, floor = results
    print(
        f"ratio bot/floor: e2e p50 {bot['e2e_p50_ms'] / floor['e2e_p50_ms']:.2f}x, e2e p99 {bot['e2e_p99_ms'] / floor['e2e_p99_ms']:.2f}x, "
        f"ack p99 {bot['ack_p99_ms'] / floor['ack_p99_ms']:.2f}x"
    )


if __name__ == "__main__":
    main()
