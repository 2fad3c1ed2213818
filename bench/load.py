"""Load on the scale-out deployment: gunicorn web processes and `run_bot.py worker` processes
on one PostgreSQL, the sandbox as Webex in its own process, all on loopback.

N signed webhooks (5 % delivered twice, as Webex may) at a fixed rate, spread over customer
spaces (each its own organisation): `/ping` only, or with --mix a seeded mix of what customers send
(pings, help, SLA questions, ticket lists, new incidents with their countdown). Prints
acknowledgements per second, acknowledge and end-to-end p50/p99 (end to end: until the last
message the command owes), and whether every accepted command was answered exactly once.

--find-rate searches, on one deployment, for the highest rate at which every command is
answered with end-to-end p99 under --e2e-target-ms: doubling from --rate until a step misses,
then halving the gap; each step sends --step-seconds of load.

    python bench/load.py [--n 10000] [--rate 150] [--mix] [--web 2] [--workers 2] [--database-url URL]
    python bench/load.py --find-rate [--mix] [--rate 10] [--e2e-target-ms 500]
    python bench/load.py --ack-only --n 6000 --rate 300
    BOT_WORKER_NICE=10 python bench/load.py --n 6000 --rate 300 --sandbox-nice 10

The sandbox shares the cores with the bot; in production Webex's side of every call runs on
Webex's machines. --sandbox-nice lowers its CPU priority so that it takes what the bot leaves.

Where the server runs without autovacuum (this machine's configuration sets autovacuum = off),
the bench vacuums the bot's tables every --vacuum-every seconds, as autovacuum would in a
deployment; the header says so.

LOAD_DEBUG=1 lists on stderr each command left without its answers.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhook import SECRET, _start, run_one  # noqa: E402
from sandbox.demo import BOT_TOKEN  # noqa: E402

SCHEMA = "servicedesk_load"


def _database(url: str, schema: str = SCHEMA) -> str:
    """A fresh schema on the PostgreSQL server at `url`; the URL that uses it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float, float] | None:
    """(name, parent pid, CPU seconds of the process, CPU seconds of its children reaped so far)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()  # from field 3 (state) on
    utime, stime, cutime, cstime = (int(f) / _TICK for f in fields[11:15])
    return name, int(fields[1]), utime + stime, cutime + cstime


def _cpu(kinds: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far by each kind of process: the listed processes, their live children and
    the children they reaped; "PostgreSQL": every postgres process on the machine; "load generator": this one."""
    stats = {int(d): st for d in os.listdir("/proc") if d.isdigit() and (st := _stat(int(d))) is not None}
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)

    def tree(pid: int) -> float:
        if pid not in stats:
            return 0.0
        return stats[pid][2] + stats[pid][3] + sum(tree(child) for child in children.get(pid, ()))

    used = {kind: sum(tree(pid) for pid in pids) for kind, pids in kinds.items()}
    postgres = [pid for pid, st in stats.items() if st[0] == "postgres"]
    # The postmaster's reaped children are in its own count: take each server tree once, from its root.
    used["PostgreSQL"] = sum(
        tree(pid) for pid in postgres if stats[pid][1] not in stats or stats[stats[pid][1]][0] != "postgres"
    )
    mine = os.times()
    used["load generator"] = mine.user + mine.system
    return used


def _gunicorn(env: dict[str, str], web: int, log: Path, threads: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(web),
            "--threads",
            str(threads),
            "-b",
            "127.0.0.1:0",
            "--log-file",
            str(log),
            "run_bot:wsgi_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        content = log.read_text() if log.exists() else ""
        if "Listening at: " in content and content.count("Booting worker") >= web:
            return proc, content.split("Listening at: ")[1].split()[0]
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"gunicorn did not start:\n{log.read_text() if log.exists() else ''}")


# (words, the messages the bot answers with, weight). A new incident is answered in a thread
# of its own: the registration, then its SLA countdown.
MIX = (
    ("/ping", 1, 40),
    ("/help", 1, 15),
    ("/sla P2", 1, 15),
    ("/tickets", 1, 15),
    ("/incident service=M2M Modems offline", 2, 15),
)
REGISTERED = re.compile(r"^\*\*(INC-\d+)\*\* — incident registered: (.+)$", re.MULTILINE)
COUNTDOWN = re.compile(r"^⏱ \*\*(INC-\d+)\*\*")


def _mixed(seed: int):
    """The i-th command: drawn from MIX, seeded; an incident's title names its command."""
    import random

    rng = random.Random(seed)
    choices = [(words, answers) for words, answers, weight in MIX for _ in range(weight)]

    def command(i: int) -> tuple[str, int]:
        words, answers = rng.choice(choices)
        return (f"{words} {i}", answers) if words.startswith("/incident") else (words, answers)

    return command


def _incident_threads():
    """Which command a message of the bot answers: its thread, or for an incident's own thread
    the command whose title it registers (the countdown follows by ticket number)."""
    by_title: dict[str, str] = {}
    by_number: dict[str, str] = {}

    def thread_of(words_by_thread: dict[str, str], message: dict) -> str | None:
        if not by_title:
            by_title.update(
                {
                    words.split("service=M2M ", 1)[1]: thread
                    for thread, words in words_by_thread.items()
                    if words.startswith("/incident")
                }
            )
        if message.get("parentId") in words_by_thread:
            return message["parentId"]
        text = message.get("markdown") or ""
        registered = REGISTERED.search(text)
        if registered and registered.group(2).strip() in by_title:
            by_number[registered.group(1)] = by_title[registered.group(2).strip()]
            return by_number[registered.group(1)]
        countdown = COUNTDOWN.search(text)
        return by_number.get(countdown.group(1)) if countdown else None

    return thread_of


class Vacuum:
    """A stand-in for PostgreSQL's autovacuum where the server runs without it (this machine's does:
    autovacuum = off). The queue tables leave two dead row versions per message; unvacuumed, every
    claim wades through more of them as a run goes on. Every `every_s` seconds it vacuums and
    analyzes the bot's tables, throttled like autovacuum (cost delay 2 ms, limit 200)."""

    def __init__(self, url: str, every_s: float) -> None:
        from sqlalchemy import create_engine, text

        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with self.engine.connect() as conn:
            self.needed = conn.execute(text("SHOW autovacuum")).scalar() == "off"
        self.every_s = every_s if self.needed else 0.0
        self.runs = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Vacuum:
        if self.every_s > 0:
            self.thread.start()
        return self

    def _run(self) -> None:
        from sqlalchemy import text

        while not self.stop.wait(self.every_s):
            with self.engine.connect() as conn:
                conn.execute(text("SET vacuum_cost_delay = '2ms'"))
                conn.execute(text("SET vacuum_cost_limit = 200"))
                tables = (
                    conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
                    .scalars()
                    .all()
                )
                conn.execute(text("VACUUM (ANALYZE) " + ", ".join(f'"{table}"' for table in tables)))
            self.runs += 1

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()
        self.engine.dispose()


def _binder(url: str):
    """Binds each of the bench's spaces to a customer organisation of its own, as an admin would
    have (so an organisation's ticket list stays the size a customer's would be)."""
    from storage import directory
    from storage.db import Database

    def bind(room_ids: list[str]) -> None:
        db = Database(url)
        now = datetime.now(UTC)
        with db.scope() as session:
            for room_id in room_ids:
                name = f"Bench Customer {room_id[-8:]}"
                org = directory.find_org(session, name=name) or directory.create_org(
                    session, name=name, actor="bench", room_id=None, now=now
                )
                directory.set_space_kind(
                    session, room_id=room_id, room_type="group", kind="customer", org=org, actor="bench", now=now
                )
        db.dispose()

    return bind


def _ok(result: dict, target_ms: float) -> bool:
    return result["replied"] == result["n"] and result["doubled"] == 0 and result["e2e_p99_ms"] < target_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--spaces", type=int, default=50)
    parser.add_argument("--web", type=int, default=2, help="gunicorn web processes")
    parser.add_argument(
        "--web-threads", type=int, default=4, help="threads per gunicorn web process (keep-alive connections)"
    )
    parser.add_argument("--workers", type=int, default=2, help="run_bot.py worker processes")
    parser.add_argument("--mix", action="store_true", help="a seeded mix of customer commands instead of /ping only")
    parser.add_argument("--find-rate", action="store_true", help="search for the highest rate meeting --e2e-target-ms")
    parser.add_argument(
        "--ack-only",
        action="store_true",
        help="the web processes alone (no workers): acknowledgements per second and their latency",
    )
    parser.add_argument(
        "--sandbox-nice",
        type=int,
        default=0,
        help="run the sandbox at this lower CPU priority: in production Webex does its work on its own "
        "machines, here it competes with the bot for the same cores",
    )
    parser.add_argument(
        "--vacuum-every",
        type=float,
        default=60.0,
        help="where the server runs without autovacuum, vacuum the bot's tables every this many seconds "
        "as autovacuum would (0: never)",
    )
    parser.add_argument("--e2e-target-ms", type=float, default=500.0)
    parser.add_argument("--step-seconds", type=float, default=30.0)
    parser.add_argument(
        "--database-url", default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    args = parser.parse_args()
    url = _database(args.database_url)
    procs: list[subprocess.Popen] = []
    vacuum = None
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
            "WEBEX_WEBHOOK_SECRET": SECRET,
            "BOT_RATE_LIMIT": "0",
            "DATABASE_URL": url,
            "WEBHOOK_CHECK_MINUTES": "0",
        }
        try:
            sandbox, base = _start(
                [sys.executable, str(ROOT / "bench" / "sandbox_app.py"), "--nice", str(args.sandbox_nice)],
                cwd=tmp,
                env=env,
                ready="sandbox ready: Webex API ",
            )
            procs.append(sandbox)
            env.update(WEBEX_ACCESS_TOKEN=BOT_TOKEN, WEBEX_BASE_URL=f"{base}/v1/")
            subprocess.run(
                [sys.executable, str(ROOT / "run_bot.py"), "db", "upgrade"],
                cwd=tmp,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            vacuum = Vacuum(url, args.vacuum_every).start()
            web, target = _gunicorn(env, args.web, Path(tmp) / "gunicorn.log", threads=args.web_threads)
            procs.append(web)
            for _ in range(0 if args.ack_only else args.workers):
                procs.append(
                    subprocess.Popen(
                        [sys.executable, str(ROOT / "run_bot.py"), "worker"],
                        cwd=tmp,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            prepare = _binder(url)

            kinds = {"web": [web.pid], "workers": [p.pid for p in procs[2:]], "sandbox": [sandbox.pid]}

            def run(rate: float, n: int) -> dict:
                before, started = _cpu(kinds), time.monotonic()
                result = _run(rate, n)
                after, result["wall_s"] = _cpu(kinds), time.monotonic() - started
                result["cpu_s"] = {kind: after[kind] - before[kind] for kind in after}
                return result

            def _run(rate: float, n: int) -> dict:
                return run_one(
                    "scale-out",
                    base,
                    target,
                    n=n,
                    rate=rate,
                    spaces=args.spaces,
                    concurrency=32,
                    duplicates=0.05,
                    settle_s=5.0,
                    command=_mixed(len(steps)) if args.mix else None,
                    prepare=prepare,
                    thread_of=_incident_threads() if args.mix else None,
                    answer_wait_s=0 if args.ack_only else 120,
                )

            steps: list[dict] = []
            if not args.find_rate:
                steps.append(run(args.rate, args.n))
            else:
                good, bad, rate = 0.0, None, args.rate
                while True:
                    result = run(rate, max(50, int(rate * args.step_seconds)))
                    steps.append(result)
                    print(
                        f"  rate {rate:g}/s: e2e p99 {result['e2e_p99_ms']:.0f} ms, answered {result['replied']}/{result['n']}, "
                        f"twice {result['doubled']}, ack p99 {result['ack_p99_ms']:.1f} ms -> "
                        f"{'meets' if _ok(result, args.e2e_target_ms) else 'misses'}",
                        flush=True,
                    )
                    if _ok(result, args.e2e_target_ms):
                        good = rate
                    else:
                        bad = rate
                    if bad is not None and (bad - good) <= max(2.0, 0.1 * bad):
                        break
                    rate = rate * 2 if bad is None else round((good + bad) / 2, 1)
        finally:
            if vacuum is not None:
                vacuum.close()
            for proc in reversed(procs):
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    commands = ("mixed commands" if args.mix else "/ping") + ("  web only, no workers" if args.ack_only else "")
    print(
        f"# bench/load.py  {datetime.now(UTC):%Y-%m-%d}  {platform.node()}  {os.cpu_count()} cores  "
        f"Python {platform.python_version()}  PostgreSQL  web={args.web} workers={0 if args.ack_only else args.workers}  {commands}  "
        f"spaces={args.spaces}"
        + (f"  sandbox nice {args.sandbox_nice}" if args.sandbox_nice else "")
        + (f"  workers nice {os.environ['BOT_WORKER_NICE']}" if os.environ.get("BOT_WORKER_NICE", "0") != "0" else "")
        + (
            f"  autovacuum off: vacuumed every {vacuum.every_s:g} s ({vacuum.runs} times)"
            if vacuum.every_s
            else "  autovacuum off, not vacuumed"
            if vacuum.needed
            else ""
        )
    )
    if args.find_rate:
        print(
            f"highest rate with every command answered once and end to end p99 < {args.e2e_target_ms:g} ms: "
            f"{good:g}/s (misses at {bad:g}/s)"
        )
        passing = [r for r in steps if _ok(r, args.e2e_target_ms)]
        if not passing:
            return
        result = max(passing, key=lambda r: r["rate"])
    else:
        result = steps[0]
    print(f"at {result['rate']:g}/s, n={result['n']} (+5% repeated):")
    print(
        f"webhooks sent {result['sent']}, acknowledged {result['acked']}, refused {result['failed']}; "
        f"{result['acks_per_s']:.0f} acknowledged/s"
    )
    print(f"acknowledge p50 {result['ack_p50_ms']:.1f} ms, p99 {result['ack_p99_ms']:.1f} ms")
    if not args.ack_only:
        print(f"end to end  p50 {result['e2e_p50_ms']:.1f} ms, p99 {result['e2e_p99_ms']:.1f} ms")
        print(f"answered {result['replied']}/{result['n']}, answered twice {result['doubled']}")
    cpu = result["cpu_s"]
    print(
        f"CPU seconds per 1000 commands ({sum(cpu.values()) / result['wall_s']:.2f} of {os.cpu_count()} cores busy "
        f"over the {result['wall_s']:.0f} s of the step): "
        + ", ".join(f"{kind} {seconds * 1000 / result['n']:.1f}" for kind, seconds in cpu.items())
    )
    if not args.ack_only:
        if args.mix:
            for words, (count, p50, p99) in result["e2e_by_command"].items():
                print(f"  {words:<10} n={count:<5} end to end p50 {p50:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
