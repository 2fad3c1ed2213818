"""/v1/people: the caller, a person by id, and people looked up by email, name or ids."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sandbox.problems import NOT_FOUND, ApiProblem
from sandbox.routes.plumbing import me, page, sandbox_state

people = Blueprint("people", __name__)


@people.get("/v1/people/me")
def people_me() -> Response:
    """The caller."""
    return jsonify(me())


@people.get("/v1/people/<person_id>")
def people_get(person_id: str) -> Response:
    """One person by id."""
    person = sandbox_state().people.get(person_id)
    if person is None:
        raise ApiProblem(404, NOT_FOUND)
    return jsonify(person)


@people.get("/v1/people")
def people_list() -> Response:
    """People by email, display name (a prefix) or ids."""
    state = sandbox_state()
    email, name, ids = request.args.get("email"), request.args.get("displayName"), request.args.get("id")
    if not (email or name or ids):
        raise ApiProblem(400, "email, displayName or id is required")
    with state.lock:
        found = list(state.people.values())
    if email or name:
        # Webex no longer looks people up across organisations by email or name (its People
        # API update of September 2022): only the caller's own organisation's are found.
        found = [p for p in found if p["orgId"] == me()["orgId"]]
    if email:
        found = [p for p in found if email.lower() in p["emails"]]
    if name:
        found = [p for p in found if p["displayName"].lower().startswith(name.lower())]
    if ids:
        wanted = ids.split(",")
        found = [p for p in found if p["id"] in wanted]
    return page(found, "people")
