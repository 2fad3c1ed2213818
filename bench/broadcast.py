"""Broadcast benchmark: one disruption notice to many customer spaces, and P1 pages raised meanwhile.

A sandbox Webex (its own process) allows the bot R requests per second per method and endpoint
(R messages a second among them) and answers 429 with Retry-After beyond that. The bench creates S
customer spaces there, binds them in the bot's database, starts `run_bot.py serve` with its bulk
pace below R (BOT_BULK_PER_SECOND, 0.9 R by default), and has an agent open a disruption on a
service every space gets notices for. While the notices go out, customers raise P P1 incidents,
spread over the broadcast; each pages the on-call engineer. It prints the wall time from the
command to the last notice, the rate achieved as a fraction of the allowed one and of the pace,
the 429s received, lost or doubled notices, and how long each page took from the customer's
webhook to the page at Webex (target: p99 under 2 s).

    python bench/broadcast.py [--spaces 2000] [--rate 50] [--pace 45] [--pages 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhook import _percentile, _start  # noqa: E402
from bot.security import sign  # noqa: E402
from sandbox.demo import ANNA_EMAIL, BOT_EMAIL, BOT_TOKEN, ERIK_EMAIL, SANNE_EMAIL, STAFF_ROOM  # noqa: E402

SECRET = "bench-secret"
ORGS = 40


def _make_spaces(base: str, n: int) -> list[str]:
    # Through the sandbox's helper: Anna's token is rate limited like the bot's, and the setup is not what is measured.
    def one(i: int) -> str:
        session = requests.Session()
        room = session.post(
            f"{base}/_sandbox/rooms",
            json={"as": ANNA_EMAIL, "title": f"Customer {i}", "members": [BOT_EMAIL]},
            timeout=30,
        ).json()
        return room["id"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, range(n)))


def _seed(database_url: str, rooms: list[str], staff_room: str) -> None:
    from storage import directory
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models.operations import OnCallTeam

    db = Database(database_url)
    upgrade(db.engine)
    now = datetime.now(UTC)
    with db.scope() as session:
        orgs = [
            directory.create_org(session, name=f"Customer org {k}", actor="bench", room_id=None, now=now)
            for k in range(ORGS)
        ]
        for i, room_id in enumerate(rooms):
            directory.set_space_kind(
                session, room_id=room_id, room_type="group", kind="customer", org=orgs[i % ORGS], actor="bench", now=now
            )
        directory.set_space_kind(
            session, room_id=staff_room, room_type="group", kind="staff", org=None, actor="bench", now=now
        )
        directory.grant_role(session, email=SANNE_EMAIL, role="agent", actor="bench", room_id=None, now=now)
        directory.grant_role(session, email=ERIK_EMAIL, role="engineer", actor="bench", room_id=None, now=now)
        session.add(OnCallTeam(name="iot-oncall", rota=[ERIK_EMAIL], repage_minutes=5, pages_per_engineer=2))
    db.dispose()


def _signed(target: str, message: dict, room_id: str, email: str) -> float:
    """Deliver the webhook of `message` to the bot as Webex would; the instant it was sent."""
    body = json.dumps(
        {
            "id": "bench",
            "name": "bench",
            "resource": "messages",
            "event": "created",
            "data": {
                "id": message["id"],
                "roomId": room_id,
                "roomType": "group",
                "personId": message["personId"],
                "personEmail": email,
            },
        }
    ).encode()
    sent = time.perf_counter()
    requests.post(
        f"{target}/webhooks/webex",
        data=body,
        timeout=30,
        headers={"X-Spark-Signature": sign(body, SECRET), "Content-Type": "application/json"},
    )
    return sent


def main() -> None:
    """Run the broadcast with pages raised during it, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", type=int, default=2000)
    parser.add_argument(
        "--rate", type=float, default=50.0, help="requests per second per endpoint the sandbox allows the bot"
    )
    parser.add_argument("--pace", type=float, default=None, help="the bot's BOT_BULK_PER_SECOND (default 0.9 × rate)")
    parser.add_argument("--pages", type=int, default=20, help="P1 incidents raised while the notices go out")
    args = parser.parse_args()
    pace = args.pace or round(0.9 * args.rate, 1)

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
            "BOT_PORT": "0",
            "METRICS_PORT": "0",
            "WEBEX_WEBHOOK_SECRET": SECRET,
        }
        sandbox, base = _start(
            [sys.executable, str(ROOT / "bench" / "sandbox_app.py"), "--rate-limit", str(args.rate)],
            cwd=tmp,
            env=env,
            ready="sandbox ready: Webex API ",
        )
        bot = None
        try:
            rooms = _make_spaces(base, args.spaces)
            listing = requests.get(f"{base}/_sandbox/rooms", timeout=30).json()
            staff_room = next(
                r["id"]
                for r in (listing["items"] if isinstance(listing, dict) else listing)
                if r["title"] == STAFF_ROOM
            )
            database_url = f"sqlite:///{tmp}/bot.db"
            _seed(database_url, rooms, staff_room)
            bot_env = {
                **env,
                "WEBEX_ACCESS_TOKEN": BOT_TOKEN,
                "WEBEX_BASE_URL": f"{base}/v1/",
                "DATABASE_URL": database_url,
                "BOT_BULK_PER_SECOND": str(pace),
            }
            bot, target = _start(
                [sys.executable, str(ROOT / "run_bot.py"), "serve"], cwd=tmp, env=bot_env, ready="listening on "
            )
            me = requests.get(
                f"{base}/v1/people/me", headers={"Authorization": f"Bearer {BOT_TOKEN}"}, timeout=10
            ).json()
            since = requests.get(f"{base}/_sandbox/events", params={"since": 10**12, "timeout": 0}, timeout=10).json()[
                "seq"
            ]
            before = requests.get(f"{base}/_sandbox/stats", timeout=10).json()
            command = requests.post(
                f"{base}/_sandbox/post",
                json={
                    "as": SANNE_EMAIL,
                    "roomId": staff_room,
                    "markdown": f'<@personEmail:{BOT_EMAIL}> /disruption open services=M2M severity=P2 impact="Data sessions drop" '
                    f'actions="Core nodes restarted" next_steps="Monitoring" next_update=23:59',
                },
                timeout=10,
            ).json()
            started = _signed(target, command, staff_room, SANNE_EMAIL)
            expected = args.spaces / pace
            page_every = expected / (args.pages + 1)
            raised: dict[str, float] = {}  # incident title → webhook sent
            paged: dict[str, float] = {}  # incident title → page seen at Webex
            wanted = set(rooms)
            per_room: Counter[str] = Counter()
            first = last = None
            deadline = started + max(120.0, 3 * expected)
            while (
                sum(1 for r in wanted if per_room[r]) < len(wanted) or len(paged) < len(raised)
            ) and time.perf_counter() < deadline:
                if len(raised) < args.pages and time.perf_counter() >= started + page_every * (len(raised) + 1):
                    n = len(raised)
                    title = f"Gateway outage {n}"
                    room_id = rooms[(n * 97) % len(rooms)]
                    message = requests.post(
                        f"{base}/_sandbox/post",
                        json={
                            "as": ANNA_EMAIL,
                            "roomId": room_id,
                            "markdown": f"<@personEmail:{BOT_EMAIL}> /incident service=LoRa priority=P1 phone=+31201234567 {title}",
                        },
                        timeout=10,
                    ).json()
                    raised[title] = _signed(target, message, room_id, ANNA_EMAIL)
                feed = requests.get(
                    f"{base}/_sandbox/events", params={"since": since, "timeout": 0.2}, timeout=30
                ).json()
                now = time.perf_counter()
                for event in feed["events"]:
                    message = event["message"]
                    if event["kind"] != "created" or message["personId"] != me["id"]:
                        continue
                    markdown = message.get("markdown") or ""
                    if message["roomId"] in wanted and "DIS-1001" in markdown:
                        per_room[message["roomId"]] += 1
                        first = first or now
                        last = now
                    elif message.get("toPersonEmail") == ERIK_EMAIL and markdown.startswith("P1 page"):
                        title = next((t for t in raised if f": {t}. " in markdown), None)
                        if title is not None and title not in paged:
                            paged[title] = now
                since = feed["seq"]
            time.sleep(2)  # let anything doubled arrive before counting (bench only)
            for event in requests.get(
                f"{base}/_sandbox/events", params={"since": since, "timeout": 0}, timeout=30
            ).json()["events"]:
                message = event["message"]
                if (
                    event["kind"] == "created"
                    and message["personId"] == me["id"]
                    and message["roomId"] in wanted
                    and "DIS-1001" in (message.get("markdown") or "")
                ):
                    per_room[message["roomId"]] += 1
            after = requests.get(f"{base}/_sandbox/stats", timeout=10).json()
        finally:
            for proc in (bot, sandbox):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=30)

    delivered = sum(1 for r in rooms if per_room[r] >= 1)
    doubled = sum(1 for r in rooms if per_room[r] > 1)
    wall = (last - started) if last else float("nan")
    spread = (last - first) if first and last and last > first else float("nan")
    achieved = (delivered - 1) / spread if spread == spread and spread > 0 else float("nan")
    latencies = [paged[t] - raised[t] for t in paged]
    print(
        f"# bench/broadcast.py  {datetime.now(UTC):%Y-%m-%d}  {platform.node()}  {os.cpu_count()} cores  "
        f"Python {platform.python_version()}  SQLite  spaces={args.spaces} allowed={args.rate:g}/s pace={pace:g}/s pages={args.pages}"
    )
    print(f"notices delivered {delivered}/{len(rooms)}, lost {len(rooms) - delivered}, doubled {doubled}")
    print(f"command to last notice {wall:.1f} s; first to last notice {spread:.1f} s")
    print(
        f"rate achieved {achieved:.1f}/s = {achieved / args.rate:.0%} of the allowed {args.rate:g}/s, "
        f"{achieved / pace:.0%} of the pace {pace:g}/s"
    )
    print(f"429s received {after['rate_limited'] - before['rate_limited']}")
    print(
        f"P1 pages during the broadcast: {len(paged)}/{len(raised)} delivered; webhook → page at Webex "
        f"p50 {_percentile(latencies, 50):.2f} s, p99 {_percentile(latencies, 99):.2f} s, max {max(latencies, default=float('nan')):.2f} s"
    )


if __name__ == "__main__":
    main()
