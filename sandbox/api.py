"""The sandbox's HTTP face: the Webex REST subset under /v1/, and /_sandbox/ helpers for the page.

Each resource family is a blueprint in sandbox/routes/; what every request shares (the token,
tracking ids, paging, errors, injected faults, the request log) is in sandbox/routes/plumbing.py.
A message may carry one file (a multipart upload, or a URL the sandbox downloads) served at
/v1/contents/.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.exceptions import HTTPException

from sandbox.routes import plumbing
from sandbox.routes.actions import actions
from sandbox.routes.helpers import helpers
from sandbox.routes.memberships import memberships
from sandbox.routes.messages import messages
from sandbox.routes.people import people
from sandbox.routes.rooms import rooms
from sandbox.routes.webhooks import webhooks
from sandbox.state import MAX_FILE_BYTES, ApiProblem, SandboxState

STATIC = Path(__file__).resolve().parent / "static"
BLUEPRINTS = (people, rooms, memberships, messages, actions, webhooks, helpers)


def create_sandbox_app(state: SandboxState) -> Flask:
    """A Flask app imitating Webex for `state`."""
    app = Flask("sandbox", static_folder=str(STATIC), static_url_path="/_sandbox/static")
    # The blueprints find the state here, so each app serves its own.
    app.extensions["sandbox"] = state
    # Room for one file of Webex's largest size and the fields around it; larger bodies answer 413.
    app.config["MAX_CONTENT_LENGTH"] = MAX_FILE_BYTES + 1024 * 1024
    app.register_error_handler(ApiProblem, plumbing.problem)
    app.register_error_handler(HTTPException, plumbing.http_problem)
    app.before_request(plumbing.authenticate)
    app.after_request(plumbing.record)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
