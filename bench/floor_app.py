"""The floor for bench/webhook.py: a bare Flask handler that GETs the message and POSTs the reply.

It does what a minimal bot does inside the webhook request (an HMAC check, no database, no
queue, no ordering), so the bench can compare the bot's end-to-end latency with the least
any bot could take against the same Webex.

    python bench/floor_app.py --secret S --webex-base http://127.0.0.1:PORT/v1/
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask, request  # noqa: E402
from webexpythonsdk import WebexAPI  # noqa: E402

from bot.security import signature_ok  # noqa: E402
from bot.serving import make_server  # noqa: E402
from sandbox.demo import BOT_TOKEN  # noqa: E402


def main() -> None:
    """Serve the bare handler on a free loopback port; print where, run until killed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--webex-base", required=True)
    args = parser.parse_args()

    app = Flask("floor")
    local = threading.local()

    def api() -> WebexAPI:
        if not hasattr(local, "api"):
            local.api = WebexAPI(access_token=BOT_TOKEN, base_url=args.webex_base, wait_on_rate_limit=False)
        return local.api

    @app.post("/webhooks/webex")
    def webhook():
        body = request.get_data()
        if not signature_ok(body, request.headers.get("X-Spark-Signature"), args.secret):
            return "", 401
        data = request.get_json()["data"]
        message = api().messages.get(data["id"])
        api().messages.create(roomId=message.roomId, parentId=message.parentId, markdown="pong")
        return "", 200

    server = make_server(app, host="127.0.0.1", port=0)
    port = server.socket.getsockname()[1]
    sys.stdout.write(f"listening on http://127.0.0.1:{port}/webhooks/webex\n")
    sys.stdout.flush()
    server.run()


if __name__ == "__main__":
    main()
