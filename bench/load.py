"""Load on the scale-out deployment: gunicorn web processes and `run_bot.py worker` processes
on one PostgreSQL, the sandbox as Webex in its own process, all on loopback.

N signed `/ping` webhooks (5 % delivered twice, as Webex may) at a fixed rate, spread over
group spaces; prints acknowledgements per second, acknowledge and end-to-end p50/p99, and
whether every accepted event was answered exactly once.

    python bench/load.py [--n 10000] [--rate 150] [--web 2] [--workers 2] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhook import SECRET, _start, run_one  # noqa: E402
from bot.sandbox.demo import BOT_TOKEN  # noqa: E402

SCHEMA = "servicedesk_load"


def _database(url: str) -> str:
    """A fresh schema on the PostgreSQL server at `url`; the URL that uses it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine.dispose()
    return make_url(url).update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(hide_password=False)


def _gunicorn(env: dict[str, str], web: int, log: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(web), "-b", "127.0.0.1:0", "--log-file", str(log),
                             "bot.wsgi:make_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        content = log.read_text() if log.exists() else ""
        if "Listening at: " in content and content.count("Booting worker") >= web:
            return proc, content.split("Listening at: ")[1].split()[0]
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"gunicorn did not start:\n{log.read_text() if log.exists() else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--spaces", type=int, default=50)
    parser.add_argument("--web", type=int, default=2, help="gunicorn web processes")
    parser.add_argument("--workers", type=int, default=2, help="run_bot.py worker processes")
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    url = _database(args.database_url)
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", "WEBEX_WEBHOOK_SECRET": SECRET, "BOT_RATE_LIMIT": "0",
               "DATABASE_URL": url, "WEBHOOK_CHECK_MINUTES": "0"}
        try:
            sandbox, base = _start([sys.executable, str(ROOT / "bench" / "sandbox_app.py")], cwd=tmp, env=env,
                                   ready="sandbox ready: Webex API ")
            procs.append(sandbox)
            env.update(WEBEX_ACCESS_TOKEN=BOT_TOKEN, WEBEX_BASE_URL=f"{base}/v1/")
            subprocess.run([sys.executable, str(ROOT / "run_bot.py"), "db", "upgrade"], cwd=tmp, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            web, target = _gunicorn(env, args.web, Path(tmp) / "gunicorn.log")
            procs.append(web)
            for _ in range(args.workers):
                procs.append(subprocess.Popen([sys.executable, str(ROOT / "run_bot.py"), "worker"], cwd=tmp, env=env,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            result = run_one("scale-out", base, target, n=args.n, rate=args.rate, spaces=args.spaces, concurrency=32,
                             duplicates=0.05, settle_s=5.0)
        finally:
            for proc in reversed(procs):
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print(f"# bench/load.py  {datetime.now(timezone.utc):%Y-%m-%d}  {platform.node()}  {os.cpu_count()} cores  "
          f"Python {platform.python_version()}  PostgreSQL  web={args.web} workers={args.workers}  n={args.n} (+5% repeated) "
          f"rate={args.rate:g}/s spaces={args.spaces}")
    print(f"webhooks sent {result['sent']}, acknowledged {result['acked']}, refused {result['failed']}; "
          f"{result['acks_per_s']:.0f} acknowledged/s")
    print(f"acknowledge p50 {result['ack_p50_ms']:.1f} ms, p99 {result['ack_p99_ms']:.1f} ms")
    print(f"end to end  p50 {result['e2e_p50_ms']:.1f} ms, p99 {result['e2e_p99_ms']:.1f} ms")
    print(f"answered {result['replied']}/{result['n']}, answered twice {result['doubled']}")


if __name__ == "__main__":
    main()
