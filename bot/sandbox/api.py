"""The sandbox's HTTP face: the Webex REST subset under /v1/, and /_sandbox/ helpers."""

from __future__ import annotations

import logging
import math
import time
import uuid
from pathlib import Path

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from bot.sandbox.delivery import EVENTS, RESOURCES
from bot.sandbox.ids import new_id
from bot.sandbox.state import ApiProblem, SandboxState

STATIC = Path(__file__).resolve().parent / "static"

log = logging.getLogger(__name__)

MAX_POLL_S = 30.0
NOT_FOUND = "The requested resource could not be found."
WEBHOOK_FIELDS = ("id", "name", "targetUrl", "resource", "event", "filter", "secret", "orgId", "createdBy", "appId", "ownedBy", "status", "created")


def error_body(message: str) -> dict:
    """A Webex-shaped error body."""
    return {"message": message, "errors": [{"description": message}], "trackingId": f"SANDBOX_{uuid.uuid4()}"}


def _error(status: int, message: str) -> Response:
    response = jsonify(error_body(message))
    response.status_code = status
    return response


def _public_hook(hook: dict) -> dict:
    return {k: hook[k] for k in WEBHOOK_FIELDS if hook.get(k) is not None}


def create_sandbox_app(state: SandboxState) -> Flask:
    """A Flask app imitating Webex for `state`."""
    app = Flask("sandbox", static_folder=str(STATIC), static_url_path="/_sandbox/static")
    app.extensions["sandbox"] = state

    @app.errorhandler(ApiProblem)
    def problem(exc: ApiProblem):
        return _error(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def http_problem(exc: HTTPException):
        # Unknown paths and wrong methods answer in Webex's error shape, not Flask's HTML.
        response = _error(exc.code or 500, exc.description or exc.name)
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.before_request
    def authenticate_and_inject():
        path = request.path
        if path.startswith("/v1/"):
            fault = state.faults.take(request.method, path) or state.faults.roll()
            if fault is not None and "delay" in fault:
                time.sleep(fault["delay"])  # then handled as usual: a timeout that still takes effect
                fault = None
            if fault is not None:
                response = jsonify(fault["body"] or error_body(f"Injected fault {fault['status']}"))
                response.status_code = fault["status"]
                for key, value in fault["headers"].items():
                    response.headers[key] = value
                return response
            header = request.headers.get("Authorization", "")
            person = state.person_by_token(header.removeprefix("Bearer ").strip()) if header.startswith("Bearer ") else None
            if person is None:
                return _error(401, "The request requires a valid access token set in the Authorization request header.")
            g.person = person
            if request.method == "POST" and path == "/v1/messages":
                wait = state.rate_limit.take(person["id"], time.monotonic())
                if wait:
                    response = _error(429, "Too many requests; retry later.")
                    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
                    return response
        return None

    @app.after_request
    def record(response: Response):
        if request.path.startswith("/v1/"):
            state.requests.append({"method": request.method, "path": request.path, "status": response.status_code,
                                   "at": state.now()})
        return response

    def me() -> dict:
        return g.person

    def body() -> dict:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ApiProblem(400, "The request body must be a JSON object")
        return data

    # People

    @app.get("/v1/people/me")
    def people_me():
        return jsonify(me())

    @app.get("/v1/people/<person_id>")
    def people_get(person_id: str):
        person = state.people.get(person_id)
        if person is None:
            raise ApiProblem(404, NOT_FOUND)
        return jsonify(person)

    @app.get("/v1/people")
    def people_list():
        email = request.args.get("email")
        if not email:
            raise ApiProblem(400, "email, displayName or id is required")
        person = state.person_by_email(email)
        return jsonify(items=[person] if person else [])

    # Rooms and memberships

    @app.get("/v1/rooms")
    def rooms_list():
        with state.lock:
            rooms = [r for r in state.rooms.values() if state.is_member(r["id"], me()["id"])]
        kind = request.args.get("type")
        return jsonify(items=[r for r in rooms if kind is None or r["type"] == kind])

    @app.post("/v1/rooms")
    def rooms_create():
        title = body().get("title")
        if not title:
            raise ApiProblem(400, "title is required")
        return jsonify(state.add_room(title, [], creator_email=me()["emails"][0]))

    @app.get("/v1/rooms/<room_id>")
    def rooms_get(room_id: str):
        room = state.rooms.get(room_id)
        if room is None or not state.is_member(room_id, me()["id"]):
            raise ApiProblem(404, NOT_FOUND)
        return jsonify(room)

    @app.get("/v1/memberships")
    def memberships_list():
        room_id, email = request.args.get("roomId"), request.args.get("personEmail")
        with state.lock:
            mine = {m["roomId"] for m in state.memberships.values() if m["personId"] == me()["id"]}
            items = [m for m in state.memberships.values()
                     if m["roomId"] in mine and (room_id is None or m["roomId"] == room_id)
                     and (email is None or m["personEmail"] == email.lower())]
        return jsonify(items=items)

    @app.post("/v1/memberships")
    def memberships_create():
        data = body()
        room_id, email = data.get("roomId"), data.get("personEmail")
        if not room_id or not email:
            raise ApiProblem(400, "roomId and personEmail are required")
        with state.lock:
            if not state.is_member(room_id, me()["id"]):
                raise ApiProblem(404, NOT_FOUND)
            person = state.person_by_email(email)
            if person is not None and state.is_member(room_id, person["id"]):
                raise ApiProblem(409, "The person is already a member of the room")
            return jsonify(state.add_member(room_id, email, actor_email=me()["emails"][0]))

    @app.delete("/v1/memberships/<membership_id>")
    def memberships_delete(membership_id: str):
        with state.lock:
            membership = state.memberships.get(membership_id)
            # A member may remove anyone from the room (no moderators in the sandbox) or leave it.
            if membership is None or not state.is_member(membership["roomId"], me()["id"]):
                raise ApiProblem(404, NOT_FOUND)
            state.remove_member(membership_id, actor_email=me()["emails"][0])
        return Response(status=204)

    # Messages

    @app.get("/v1/messages")
    def messages_list():
        room_id = request.args.get("roomId")
        if not room_id:
            raise ApiProblem(400, "roomId is required")
        if not state.is_member(room_id, me()["id"]):
            raise ApiProblem(404, NOT_FOUND)
        mentioned = request.args.get("mentionedPeople")
        if me()["type"] == "bot" and state.rooms[room_id]["type"] == "group" and mentioned is None:
            # Webex shows a bot the messages of a group space only where they mention it.
            raise ApiProblem(403, "Failed to get activity.")
        if mentioned is not None and mentioned not in ("me", me()["id"]):
            raise ApiProblem(400, "mentionedPeople can only be 'me' or the person ID of the caller")
        items = list(reversed(state.messages_in(room_id)))
        if "parentId" in request.args:
            items = [m for m in items if m.get("parentId") == request.args["parentId"]]
        if mentioned is not None:
            items = [m for m in items if me()["id"] in m.get("mentionedPeople", [])]
        if "before" in request.args:
            items = [m for m in items if m["created"] < request.args["before"]]
        if "beforeMessage" in request.args:
            ids = [m["id"] for m in items]
            if request.args["beforeMessage"] in ids:
                items = items[ids.index(request.args["beforeMessage"]) + 1:]
        limit = request.args.get("max")
        if limit is not None:
            if not limit.isdigit() or int(limit) < 1:
                raise ApiProblem(400, "max must be a positive integer")
            if mentioned is not None and int(limit) > 100:
                raise ApiProblem(400, "max cannot exceed 100 with mentionedPeople")
            items = items[:int(limit)]
        return jsonify(items=items)

    @app.post("/v1/messages")
    def messages_create():
        data = body()
        message = state.post_message(
            me()["emails"][0], room_id=data.get("roomId"), to_person_email=data.get("toPersonEmail"),
            to_person_id=data.get("toPersonId"), text=data.get("text"), markdown=data.get("markdown"),
            parent_id=data.get("parentId"), attachments=data.get("attachments"),
        )
        return jsonify(message)

    @app.get("/v1/messages/<message_id>")
    def messages_get(message_id: str):
        return jsonify(state.visible_message(me()["id"], message_id))

    @app.put("/v1/messages/<message_id>")
    def messages_update(message_id: str):
        data = body()
        return jsonify(state.update_message(me()["emails"][0], message_id, room_id=data.get("roomId"),
                                            text=data.get("text"), markdown=data.get("markdown")))

    @app.delete("/v1/messages/<message_id>")
    def messages_delete(message_id: str):
        state.delete_message(me()["emails"][0], message_id)
        return Response(status=204)

    # Card actions

    @app.post("/v1/attachment/actions")
    def actions_create():
        data = body()
        if data.get("type") != "submit" or not data.get("messageId") or not isinstance(data.get("inputs"), dict):
            raise ApiProblem(400, "type 'submit', messageId and inputs are required")
        return jsonify(state.submit_card(me()["emails"][0], data["messageId"], data["inputs"]))

    @app.get("/v1/attachment/actions/<action_id>")
    def actions_get(action_id: str):
        return jsonify(state.visible_action(me()["id"], action_id))

    # Webhooks

    @app.get("/v1/webhooks")
    def webhooks_list():
        with state.lock:
            return jsonify(items=[_public_hook(w) for w in state.webhooks.values() if w["ownerId"] == me()["id"]])

    @app.post("/v1/webhooks")
    def webhooks_create():
        data = body()
        missing = [k for k in ("name", "targetUrl", "resource", "event") if not data.get(k)]
        if missing:
            raise ApiProblem(400, f"{', '.join(missing)} required")
        if data["resource"] not in RESOURCES or data["event"] not in EVENTS:
            raise ApiProblem(400, f"resource must be one of {', '.join(RESOURCES)}; event one of {', '.join(EVENTS)}")
        hook = {"id": new_id("WEBHOOK"), "name": data["name"], "targetUrl": data["targetUrl"], "resource": data["resource"],
                "event": data["event"], "filter": data.get("filter"), "secret": data.get("secret"), "orgId": state.org_id,
                "createdBy": me()["id"], "appId": "SANDBOX", "ownedBy": "creator", "status": "active",
                "created": state.stamp(), "ownerId": me()["id"]}
        with state.lock:
            state.webhooks[hook["id"]] = hook
        return jsonify(_public_hook(hook))

    def own_hook(webhook_id: str) -> dict:
        hook = state.webhooks.get(webhook_id)
        if hook is None or hook["ownerId"] != me()["id"]:
            raise ApiProblem(404, NOT_FOUND)
        return hook

    @app.get("/v1/webhooks/<webhook_id>")
    def webhooks_get(webhook_id: str):
        return jsonify(_public_hook(own_hook(webhook_id)))

    @app.put("/v1/webhooks/<webhook_id>")
    def webhooks_update(webhook_id: str):
        data = body()
        with state.lock:
            hook = own_hook(webhook_id)
            if not data.get("name") or not data.get("targetUrl"):
                raise ApiProblem(400, "name and targetUrl are required")
            hook.update(name=data["name"], targetUrl=data["targetUrl"])
            if "secret" in data:
                hook["secret"] = data["secret"]
            if data.get("status") in ("active", "inactive"):
                if data["status"] == "active" and hook["status"] != "active":
                    state.delivery.reactivated(webhook_id)
                hook["status"] = data["status"]
            elif "status" in data:
                raise ApiProblem(400, "status must be active or inactive")
        return jsonify(_public_hook(hook))

    @app.delete("/v1/webhooks/<webhook_id>")
    def webhooks_delete(webhook_id: str):
        with state.lock:
            own_hook(webhook_id)
            del state.webhooks[webhook_id]
        return Response(status=204)

    # The chat page (GET /) and its helpers; tests, the bench and the demo use them too (no
    # token: the sandbox is local only).

    @app.get("/")
    def chat_page():
        response = app.send_static_file("index.html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.get("/_sandbox/directory")
    def helper_directory():
        return jsonify(state.directory())


    @app.post("/_sandbox/post")
    def helper_post():
        data = body()
        return jsonify(state.post_message(data.get("as", ""), room_id=data.get("roomId"), to_person_email=data.get("toPersonEmail"),
                                          text=data.get("text"), markdown=data.get("markdown"), parent_id=data.get("parentId"),
                                          attachments=data.get("attachments")))

    @app.post("/_sandbox/submit")
    def helper_submit():
        data = body()
        return jsonify(state.submit_card(data.get("as", ""), data.get("messageId", ""), data.get("inputs") or {}))

    @app.get("/_sandbox/events")
    def helper_events():
        since = request.args.get("since", default=0, type=int)
        timeout = min(max(request.args.get("timeout", default=25.0, type=float), 0.0), MAX_POLL_S)
        events, cursor = state.wait_events(since, request.args.get("roomId"), timeout=timeout)
        return jsonify(seq=cursor, events=events)

    @app.post("/_sandbox/faults")
    def helper_faults():
        data = body()
        try:
            state.faults.add(str(data["method"]), str(data["path"]), int(data["status"]), headers=data.get("headers"),
                             body=data.get("body"), times=int(data.get("times", 1)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiProblem(400, f"method, path and status are required: {exc}") from exc
        return jsonify(ok=True)

    @app.get("/_sandbox/people")
    def helper_people():
        with state.lock:
            return jsonify(items=list(state.people.values()))

    @app.get("/_sandbox/stats")
    def stats():
        return jsonify(messages=len(state.messages), rate_limited=state.rate_limit.refused, allowed=state.rate_limit.allowed)

    @app.get("/_sandbox/rooms")
    def helper_rooms():
        with state.lock:
            return jsonify(items=[{**r, "members": [state.people[p]["emails"][0] for p in state.members(r["id"])]}
                                  for r in state.rooms.values()])

    return app
