"""Paging benchmark: many P1 requests at once, each paging the on-call engineer, then acknowledged.

`run_bot.py serve` (SQLite, in-process workers) against a sandbox Webex in its own process.
N customer spaces each send P1 incident requests (signed webhooks sent by the bench, as fast
as it can); every request pages the on-call engineer in his 1:1 space. The bench records,
per ticket, the time from the request's webhook to the page stored at the sandbox, then
presses Acknowledge on every page card and records the time from the press's webhook to the
"working on it" message in the customer's thread.

    python bench/paging.py [--pages 1000] [--spaces 50] [--rate 0]

--rate 0 (the default) sends every request at once, a storm; --rate R paces the requests, and
then the acknowledgements, at R per second, so the pages build up to --pages open at the same
time without the bot's queues growing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhook import _percentile, _start  # noqa: E402
from bot.security import sign  # noqa: E402
from sandbox.demo import ANNA_EMAIL, BOT_EMAIL, BOT_TOKEN, ERIK_EMAIL, token_for  # noqa: E402

SECRET = "bench-secret"
_NUMBER = re.compile(r"INC-\d+")


def _seed(database_url: str, rooms: list[str]) -> None:
    from rules import desk
    from storage import directory
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models.operations import OnCallTeam

    db = Database(database_url)
    upgrade(db.engine)
    now = datetime.now(UTC)
    with db.scope() as session:
        for i, room_id in enumerate(rooms):
            org = directory.create_org(session, name=f"Customer org {i}", actor="bench", room_id=None, now=now)
            directory.set_space_kind(
                session, room_id=room_id, room_type="group", kind="customer", org=org, actor="bench", now=now
            )
        directory.grant_role(session, email=ERIK_EMAIL, role="engineer", actor="bench", room_id=None, now=now)
        session.add(OnCallTeam(name=desk.load().paging_team, rota=[ERIK_EMAIL], repage_minutes=5, pages_per_engineer=2))
    db.dispose()


class Feed:
    """Follows the sandbox's event feed from its own thread, noting when each bot message appears.

    The feed is a long poll, so a message is seen as soon as it is stored, whatever the bench is
    doing meanwhile (sending the paced requests, for instance).
    """

    def __init__(self, base: str, bot_id: str) -> None:
        self.base, self.bot_id = base, bot_id
        self.since = requests.get(f"{base}/_sandbox/events", params={"since": 10**12, "timeout": 0}, timeout=10).json()[
            "seq"
        ]
        self.session = requests.Session()
        self.seen: list[tuple[float, dict]] = []
        self.read = 0
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        while not self.stopping.is_set():
            feed = self.session.get(
                f"{self.base}/_sandbox/events", params={"since": self.since, "timeout": 1.0}, timeout=60
            ).json()
            now = time.perf_counter()
            self.since = feed["seq"]
            fresh = [
                (now, e["message"])
                for e in feed["events"]
                if e["kind"] == "created" and e["message"]["personId"] == self.bot_id
            ]
            if fresh:
                with self.changed:
                    self.seen.extend(fresh)
                    self.changed.notify_all()

    def poll(self, timeout: float = 1.0) -> list[tuple[float, dict]]:
        """The bot messages seen since the last call (waiting up to `timeout` for one)."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.seen) > self.read, timeout=timeout)
            fresh, self.read = self.seen[self.read :], len(self.seen)
        return fresh

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def _hook(target: str, resource: str, data: dict) -> None:
    body = json.dumps({"id": "bench", "name": "bench", "resource": resource, "event": "created", "data": data}).encode()
    requests.post(
        f"{target}/webhooks/webex",
        data=body,
        timeout=30,
        headers={"X-Spark-Signature": sign(body, SECRET), "Content-Type": "application/json"},
    )


def main() -> None:
    """Run the P1 storm and the acknowledgements; print p50/p99 of both."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--spaces", type=int, default=50)
    parser.add_argument(
        "--rate", type=float, default=0.0, help="requests (and later acknowledgements) per second; 0: all at once"
    )
    args = parser.parse_args()

    def paced(i: int, t0: float) -> None:
        if args.rate > 0:
            time.sleep(max(0.0, t0 + i / args.rate - time.perf_counter()))

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
            "BOT_PORT": "0",
            "METRICS_PORT": "0",
            "WEBEX_WEBHOOK_SECRET": SECRET,
            "BOT_RATE_LIMIT": "0",
        }
        sandbox, base = _start(
            [sys.executable, str(ROOT / "bench" / "sandbox_app.py")],
            cwd=tmp,
            env=env,
            ready="sandbox ready: Webex API ",
        )
        bot = None
        try:
            anna = {"Authorization": f"Bearer {token_for(ANNA_EMAIL)}"}
            rooms = []
            for i in range(args.spaces):
                room = requests.post(
                    f"{base}/v1/rooms", json={"title": f"Customer {i}"}, headers=anna, timeout=30
                ).json()
                requests.post(
                    f"{base}/v1/memberships",
                    json={"roomId": room["id"], "personEmail": BOT_EMAIL},
                    headers=anna,
                    timeout=30,
                )
                rooms.append(room["id"])
            database_url = f"sqlite:///{tmp}/bot.db"
            _seed(database_url, rooms)
            bot_env = {
                **env,
                "WEBEX_ACCESS_TOKEN": BOT_TOKEN,
                "WEBEX_BASE_URL": f"{base}/v1/",
                "DATABASE_URL": database_url,
            }
            bot, target = _start(
                [sys.executable, str(ROOT / "run_bot.py"), "serve"], cwd=tmp, env=bot_env, ready="listening on "
            )
            me = requests.get(
                f"{base}/v1/people/me", headers={"Authorization": f"Bearer {BOT_TOKEN}"}, timeout=10
            ).json()
            requests_posted = []
            for i in range(args.pages):
                message = requests.post(
                    f"{base}/_sandbox/post",
                    json={
                        "as": ANNA_EMAIL,
                        "roomId": rooms[i % len(rooms)],
                        "markdown": f"<@personEmail:{BOT_EMAIL}> /incident service=M2M priority=P1 phone=+31201234567 outage {i}",
                    },
                    timeout=10,
                ).json()
                requests_posted.append(message)
            feed = Feed(base, me["id"])
            sent_at: dict[str, float] = {}  # request message id → webhook sent
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=16) as pool:

                def fire(item: tuple[int, dict]) -> None:
                    i, message = item
                    paced(i, t0)
                    sent_at[message["id"]] = time.perf_counter()
                    _hook(
                        target,
                        "messages",
                        {
                            "id": message["id"],
                            "roomId": message["roomId"],
                            "roomType": "group",
                            "personId": message["personId"],
                            "personEmail": ANNA_EMAIL,
                        },
                    )

                list(pool.map(fire, enumerate(requests_posted)))
            # A ticket's number appears first in its confirmation (in reply to nothing, in its space); map room order.
            title_of = {f"outage {i}": requests_posted[i]["id"] for i in range(args.pages)}
            number_request: dict[str, str] = {}
            pages: dict[str, tuple[float, dict]] = {}
            deadline = time.perf_counter() + 600
            while (len(pages) < args.pages or len(number_request) < args.pages) and time.perf_counter() < deadline:
                for seen, message in feed.poll():
                    text = message.get("markdown") or ""
                    number = _NUMBER.search(text)
                    if number and "registered" in text.split("\n")[0]:
                        outage = re.search(r"outage (\d+)", text)
                        if outage:
                            number_request[number.group()] = title_of[f"outage {outage.group(1)}"]
                    if number and text.startswith("P1 page"):
                        pages.setdefault(number.group(), (seen, message))
            page_latency = [seen - sent_at[number_request[n]] for n, (seen, _) in pages.items() if n in number_request]
            # Acknowledge every page from its card, as the engineer.
            pressed_at: dict[str, float] = {}
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=16) as pool:

                def press(item: tuple[int, tuple[str, tuple[float, dict]]]) -> None:
                    i, (number, (_, message)) = item
                    paced(i, t0)
                    data = message["attachments"][0]["content"]["actions"][0]["data"]
                    action = requests.post(
                        f"{base}/_sandbox/submit",
                        json={"as": ERIK_EMAIL, "messageId": message["id"], "inputs": data},
                        timeout=30,
                    ).json()
                    pressed_at[number] = time.perf_counter()
                    _hook(
                        target,
                        "attachmentActions",
                        {
                            "id": action["id"],
                            "messageId": message["id"],
                            "roomId": message["roomId"],
                            "personId": action["personId"],
                            "type": "submit",
                        },
                    )

                list(pool.map(press, enumerate(pages.items())))
            working: dict[str, float] = {}
            deadline = time.perf_counter() + 600
            while len(working) < len(pressed_at) and time.perf_counter() < deadline:
                for seen, message in feed.poll():
                    text = message.get("markdown") or ""
                    number = _NUMBER.search(text)
                    if number and "is working on it since" in text and message.get("parentId"):
                        working.setdefault(number.group(), seen)
            ack_latency = [working[n] - pressed_at[n] for n in working if n in pressed_at]
            feed.stop()
        finally:
            for proc in (bot, sandbox):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=30)
    print(
        f"# bench/paging.py  {datetime.now(UTC):%Y-%m-%d}  {platform.node()}  {os.cpu_count()} cores  "
        f"Python {platform.python_version()}  SQLite  pages={args.pages} spaces={args.spaces}  "
        f"rate={'all at once' if args.rate <= 0 else f'{args.rate:g}/s'}"
    )
    print(
        f"request → page stored:         {len(page_latency)} paged, p50 {_percentile(page_latency, 50):.2f} s, "
        f"p99 {_percentile(page_latency, 99):.2f} s"
    )
    print(
        f"acknowledge → customer thread: {len(ack_latency)} told, p50 {_percentile(ack_latency, 50):.2f} s, "
        f"p99 {_percentile(ack_latency, 99):.2f} s"
    )


if __name__ == "__main__":
    main()
