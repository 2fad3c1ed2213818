"""/v1/rooms: the caller's spaces, a new space, one space."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sandbox.problems import NOT_FOUND, ApiProblem
from sandbox.routes.plumbing import body, me, page, sandbox_state

rooms = Blueprint("rooms", __name__)


@rooms.get("/v1/rooms")
def rooms_list() -> Response:
    """The spaces the caller is in, optionally of one type."""
    state = sandbox_state()
    kind = request.args.get("type")
    if kind not in (None, "direct", "group"):
        raise ApiProblem(400, "type must be direct or group")
    with state.lock:
        found = [dict(r) for r in state.rooms.values() if state.is_member(r["id"], me()["id"])]
    return page([r for r in found if kind is None or r["type"] == kind], "rooms")


@rooms.post("/v1/rooms")
def rooms_create() -> Response:
    """A new group space with the caller in it."""
    title = body().get("title")
    if not title:
        raise ApiProblem(400, "title is required")
    return jsonify(sandbox_state().add_room(title, [], creator_email=me()["emails"][0]))


@rooms.get("/v1/rooms/<room_id>")
def rooms_get(room_id: str) -> Response:
    """One space the caller is in."""
    state = sandbox_state()
    room = state.rooms.get(room_id)
    if room is None or not state.is_member(room_id, me()["id"]):
        raise ApiProblem(404, NOT_FOUND)
    return jsonify(room)
