"""What a command costs the bot, by command: the worker's CPU time and the database's work.

The sandbox and the bot's webhook endpoint run in threads of this process; the bench stores N
webhooks of one command, then works them off in this thread and measures this thread's CPU
time (time.thread_time): first the inbox (fetch the message, build the context, run the
handler, queue the answer), then the outbox (send the answers). Webex's side, the endpoint and
the load generator are left out. It also counts, over the whole path (endpoint included, and
the events Webex sends the bot about its own answers), the SQL statements and the transactions
per command: exact, where the CPU time of this shared VM still varies by a fifth between runs.

    python bench/command_cost.py [--n 300] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import MIX, _database  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from sandbox.demo import ACME_ROOM, ANNA_EMAIL  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.harness import HTTP, Harness  # noqa: E402

# The commands of bench/load.py --mix (the ticket list before the incidents fill it).
COMMANDS = tuple(words for words, _answers, _weight in MIX)


class StatementCount:
    """Counts the SQL statements and the commits of an engine."""

    def __init__(self, engine) -> None:
        self.statements = self.commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_args) -> None:
        self.statements += 1

    def _commit(self, *_args) -> None:
        self.commits += 1


def measure(harness: Harness, count: StatementCount, words: str, n: int) -> tuple[float, float, int, float, float]:
    """Per command over n commands: CPU ms of the inbox and the outbox, messages sent, SQL
    statements and transactions.

    The inbox figure includes whatever the events Webex sends the bot about its own answers
    cost it (the endpoint drops those unstored when they name the webhook's creator).
    """
    statements, commits = count.statements, count.commits
    for _ in range(n):
        harness.say(ANNA_EMAIL, ACME_ROOM, words)
    started = time.thread_time()
    handled = harness.inbox.drain()
    inbox_s = time.thread_time() - started
    assert handled == n, f"{words}: {handled} of {n} handled"
    since = harness.state.seq
    started = time.thread_time()
    sent = harness.sender.drain()
    outbox_s = time.thread_time() - started
    for change in harness.state.events_since(since):
        assert harness.state.wait_delivered(change["message"]["id"]), (
            "the sandbox did not deliver the bot's own message"
        )
    started = time.thread_time()
    harness.inbox.drain()
    inbox_s += time.thread_time() - started
    return (
        inbox_s / n * 1000,
        outbox_s / n * 1000,
        sent,
        (count.statements - statements) / n,
        (count.commits - commits) / n,
    )


def main() -> None:
    """Print the CPU per command for each command in COMMANDS."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300, help="commands of each kind")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server to use (default: a new SQLite file)")
    args = parser.parse_args()
    os.environ["BOT_RATE_LIMIT"] = "0"
    with tempfile.TemporaryDirectory() as tmp:
        # On PostgreSQL a schema of its own (not bench/load.py's, which may be running), made afresh.
        db = Database(
            _database(args.database_url, "servicedesk_cost")
            if args.database_url
            else f"sqlite:///{Path(tmp) / 'bench.db'}"
        )
        upgrade(db.engine)
        # Over HTTP: in process, Webex's side would run in this thread and count as the bot's CPU time.
        harness = Harness(db, SystemClock(), transport=HTTP)
        harness.settings = harness.runtime.settings = harness.settings.with_(rate_limit=0)
        try:
            harness.seed_directory()
            count = StatementCount(db.engine)
            measure(harness, count, "/ping", 20)  # warm up: statement caches, connections
            rows = [(words, *measure(harness, count, words, args.n)) for words in COMMANDS]
        finally:
            harness.close()
            db.dispose()
    kind = "PostgreSQL" if args.database_url and args.database_url.startswith("postgres") else "SQLite"
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    print(
        f"# bench/command_cost.py  {when}  {platform.node()}  {os.cpu_count()} cores  Python {platform.python_version()}  "
        f"{kind}  n={args.n} per command"
    )
    print(
        f"{'command':<11} {'inbox ms':>9} {'outbox ms':>10} {'total ms':>9} {'messages':>9} {'SQL':>6} {'commits':>8}"
    )
    for words, inbox_ms, outbox_ms, sent, statements, commits in rows:
        print(
            f"{words.split()[0]:<11} {inbox_ms:>9.2f} {outbox_ms:>10.2f} {inbox_ms + outbox_ms:>9.2f} {sent / args.n:>9.1f} "
            f"{statements:>6.1f} {commits:>8.1f}"
        )


if __name__ == "__main__":
    main()
