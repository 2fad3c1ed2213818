"""/v1/memberships: list, add, read, change (moderator) and remove members of a space."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Response, jsonify, request

from sandbox.problems import NOT_FOUND, ApiProblem
from sandbox.routes.plumbing import body, me, page, sandbox_state

memberships = Blueprint("memberships", __name__)


@memberships.get("/v1/memberships")
def memberships_list() -> Response:
    """The members of a space, or without a space the caller's own memberships."""
    state = sandbox_state()
    room_id, person_id, email = (
        request.args.get("roomId"),
        request.args.get("personId"),
        request.args.get("personEmail"),
    )
    if (person_id or email) and not room_id:
        raise ApiProblem(400, "roomId is required with personId or personEmail")
    with state.lock:
        if room_id is None:
            # Without a room: the caller's own memberships, one per space.
            items = [dict(m) for m in state.memberships.values() if m["personId"] == me()["id"]]
        else:
            if not state.is_member(room_id, me()["id"]):
                raise ApiProblem(404, NOT_FOUND)
            items = [
                dict(m)
                for m in state.memberships.values()
                if m["roomId"] == room_id
                and (person_id is None or m["personId"] == person_id)
                and (email is None or m["personEmail"] == email.lower())
            ]
    return page(items, "memberships")


@memberships.post("/v1/memberships")
def memberships_create() -> Response:
    """Add a person (by id or email) to a space the caller is in."""
    state = sandbox_state()
    data = body()
    room_id, email, person_id = data.get("roomId"), data.get("personEmail"), data.get("personId")
    moderator = data.get("isModerator", False)
    if not room_id or not (email or person_id) or not isinstance(moderator, bool):
        raise ApiProblem(400, "roomId and personId or personEmail are required; isModerator is true or false")
    with state.lock:
        if not state.is_member(room_id, me()["id"]):
            raise ApiProblem(404, NOT_FOUND)
        person = (
            state.people.get(person_id) if person_id else state.person_by_email(cast(str, email))
        )  # one of the two is given
        if person is None:
            raise ApiProblem(404, NOT_FOUND)
        if state.is_member(room_id, person["id"]):
            raise ApiProblem(409, "The person is already a member of the room")
        return jsonify(
            state.add_member(room_id, person["emails"][0], actor_email=me()["emails"][0], moderator=moderator)
        )


@memberships.get("/v1/memberships/<membership_id>")
def memberships_get(membership_id: str) -> Response:
    """One membership of a space the caller is in."""
    return jsonify(sandbox_state().visible_membership(me()["id"], membership_id))


@memberships.put("/v1/memberships/<membership_id>")
def memberships_update(membership_id: str) -> Response:
    """Make a member a moderator or not; in a moderated space only a moderator may."""
    state = sandbox_state()
    data = body()
    if not isinstance(data.get("isModerator"), bool) or not isinstance(data.get("isRoomHidden"), bool):
        raise ApiProblem(400, "isModerator and isRoomHidden are required")
    with state.lock:
        membership = state.visible_membership(me()["id"], membership_id)
        mine = state.membership_of(membership["roomId"], me()["id"])
        moderated = any(m["isModerator"] for m in state.memberships.values() if m["roomId"] == membership["roomId"])
        if moderated and not (mine and mine["isModerator"]):
            raise ApiProblem(403, "Only a moderator can change moderators of this space.")
        return jsonify(state.set_moderator(membership["roomId"], membership["personEmail"], data["isModerator"]))


@memberships.delete("/v1/memberships/<membership_id>")
def memberships_delete(membership_id: str) -> Response:
    """Leave a space, or remove someone from it."""
    sandbox_state().delete_membership(me()["emails"][0], membership_id)
    return Response(status=204)
