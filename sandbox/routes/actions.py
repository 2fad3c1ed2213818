"""/v1/attachment/actions: press a card's button, and read a press back."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from sandbox.problems import ApiProblem
from sandbox.routes.plumbing import body, me, sandbox_state

actions = Blueprint("actions", __name__)


@actions.post("/v1/attachment/actions")
def actions_create() -> Response:
    """Submit a card's inputs as the caller."""
    data = body()
    if data.get("type") != "submit" or not data.get("messageId") or not isinstance(data.get("inputs"), dict):
        raise ApiProblem(400, "type 'submit', messageId and inputs are required")
    return jsonify(sandbox_state().submit_card(me()["emails"][0], data["messageId"], data["inputs"]))


@actions.get("/v1/attachment/actions/<action_id>")
def actions_get(action_id: str) -> Response:
    """One card submit, for its submitter or the card's author."""
    return jsonify(sandbox_state().visible_action(me()["id"], action_id))
