"""The sandbox Webex API alone, with its demo people and spaces, for bench/webhook.py.

It runs in its own process, as Webex would be elsewhere, so the process measured (the bot
or the floor) does only its own work.

    python bench/sandbox_app.py [--rate-limit 50] [--nice 10]    # prints "sandbox ready: Webex API http://127.0.0.1:PORT/v1/"

Without --rate-limit the sandbox's rate limit is off: the benches measure the bot's own cost and
throughput, which Webex's limits would hide. With it, every token gets R requests a second per
method and endpoint, in bursts of R.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.launch import lower_priority  # noqa: E402
from bot.serving import make_server  # noqa: E402
from sandbox.api import create_sandbox_app  # noqa: E402
from sandbox.demo import BOT_TOKEN, build_demo_state  # noqa: E402


def main() -> None:
    """Serve the demo sandbox on a free loopback port until killed."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="requests per second per token, method and endpoint (burst the same); beyond: 429 with Retry-After",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="lower this process's CPU priority by N (before its threads start, so they all run lower)",
    )
    args = parser.parse_args()
    lower_priority(args.nice)
    state = build_demo_state(bot_token=BOT_TOKEN)
    state.rate_limit.configure(
        per_second=args.rate_limit, burst=max(1, math.ceil(args.rate_limit)) if args.rate_limit else None
    )
    server = make_server(create_sandbox_app(state), host="127.0.0.1", port=0, threads=16)
    port = server.socket.getsockname()[1]
    sys.stdout.write(f"sandbox ready: Webex API http://127.0.0.1:{port}/v1/\n")
    sys.stdout.flush()
    server.run()


if __name__ == "__main__":
    main()
